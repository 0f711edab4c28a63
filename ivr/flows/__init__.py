"""The call flows, one module per FastAGI route, and the route table. They own the
small ``Channel`` interface they speak to and the prompt ids they play; they use
``domain`` for decisions and ``store`` for records, never a socket or AGI code."""
