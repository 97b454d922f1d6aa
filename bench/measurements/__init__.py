"""The measurements, a module each: every one loads servers it is given and prints its table."""
