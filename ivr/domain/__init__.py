"""The support line's rules as pure functions of data and time: records and their
codec, tiers' hours and the SLA clock, the hardware warranty, routing, on-call
chains, ticket events, the queue board, imports, reports, the helpdesk contract,
channel-variable names. No
I/O and no clock reads: time is passed in. Imports only the standard library, pure
third-party packages (``holidays``) and AMI's event names (``ami.events``).
"""
