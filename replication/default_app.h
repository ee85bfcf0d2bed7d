/* default_app.h — the node's default app (the vm/apps programs) as embedded class
 * files: node_app_classes[] and node_app_nclasses, from node_apps.h, which
 * deploy/node.mk generates. Built without it there is no default app (a
 * blank image is then refused). Include from one file per program. */
#ifndef PHANTOM_DEFAULT_APP_H
#define PHANTOM_DEFAULT_APP_H

#include <stddef.h>

#include "node.h"

#if __has_include("node_apps.h")
#include "node_apps.h"          /* generated: node_app_classes[] */
static const size_t node_app_nclasses = sizeof node_app_classes / sizeof node_app_classes[0];
#else
static const struct node_class node_app_classes[1];
static const size_t node_app_nclasses = 0;
#endif

#endif
