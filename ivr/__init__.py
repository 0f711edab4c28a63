"""The partner support line IVR.

Rooms, from the bottom up (each imports only from the rooms below it; the
import-linter contract in ``pyproject.toml`` keeps it so): ``runtime``, then
``ami`` and ``audio``, know nothing of the product; ``domain`` holds its pure rules;
``config`` parses the settings; ``store`` keeps the records in Redis; ``flows``
run the calls over the ``Channel`` interface they own; ``agi`` carries them over
FastAGI and classic AGI; ``tester`` runs simulated calls; ``workers`` and ``web``
are the background jobs and the supervisors' web app; ``services`` builds the
collaborators; ``app`` and ``agi_script`` are the processes; ``commands`` and
``cli`` are the ``ivr`` command.
"""
