"""Built-in capabilities: one module per capability, each defining `CAPABILITY`."""
