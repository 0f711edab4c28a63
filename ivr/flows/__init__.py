"""The call flows, one module per FastAGI route (the support line's option 4, the
warranty request, in one of its own), and the route table. They own the small
``Channel`` interface they speak to and the prompt ids they play; they use ``domain``
for decisions and ``store`` for records, never a socket or AGI code."""
