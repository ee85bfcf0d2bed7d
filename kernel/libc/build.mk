# placeholder: replaced by the kernel libc rules
