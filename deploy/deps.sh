#!/bin/sh
echo "deps: placeholder"
