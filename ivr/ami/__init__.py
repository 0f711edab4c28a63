"""Asterisk Manager Interface: the service's AMI client parts."""
