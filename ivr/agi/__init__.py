"""AGI, both ways Asterisk speaks it: the wire protocol (pure), the FastAGI server, the
``Channel`` of the flows spoken as AGI commands, classic stdin/stdout scripts (pyst2)
and a simulated Asterisk that places calls. Imports ``flows`` only for the
``Channel`` interface and route handlers; knows nothing of resellers or tickets."""
