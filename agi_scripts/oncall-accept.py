#!/usr/bin/env python3
"""Classic AGI script of route oncall-accept: ``AGI(oncall-accept.py,ticket=N...)``.

The route is this file's name; ``ivr.agi_script`` does the rest. Settings come
from the IVR_* environment variables Asterisk passes on (IVR_REDIS_URL above all).
"""

from __future__ import annotations

import sys

from ivr.agi_script import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
