# placeholder: replaced by the third-party rules
