"""The long-running background jobs of ``ivr serve``: the live queue board fed by AMI,
the SLA watch, the on-call re-pager, helpdesk delivery and the journal replay. Each
loops with ``runtime.tasks.retry_forever``; they use ``store``, ``domain``, ``ami``
and ``runtime``; nothing below imports them."""
