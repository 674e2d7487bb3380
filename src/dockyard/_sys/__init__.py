"""L1: the only code that makes privileged syscalls (through ctypes), one module per family.

Callers above L1 never touch ctypes; they call these functions, which raise ``OSError`` from
``libc.call`` (or a Dockyard error where the meaning is clear).
"""
