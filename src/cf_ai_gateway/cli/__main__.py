"""``python -m cf_ai_gateway.cli``: the same as the ``cf-ai-gateway`` command."""

import sys

from . import main

sys.exit(main())
