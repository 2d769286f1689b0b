"""LTM: virtual servers that carry real traffic, pools, members and health monitors."""
