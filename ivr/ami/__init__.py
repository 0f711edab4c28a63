"""The Asterisk Manager Interface, as a protocol: the wire format (no I/O), the one AMI
client built on it, event and action names, and ``Originate``. It knows nothing of
resellers, tickets or what a queue means; it imports only ``runtime``.
"""
