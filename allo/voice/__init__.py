"""The voice edge: real SIP calls into Allô (issue 11, item 1).

Kamailio (SIP registrar and proxy) and rtpengine (media relay) from Debian's packages, configured
from Allô's settings (`config.py` renders `templates/`), and an asyncio adapter (`adapter.py`) that
speaks evapi to Kamailio and the ng protocol to rtpengine, and reaches Allô only through the public
telephony API (`api.py`: HTTP with a token and `ws/telephony/`). `stack.py` starts and stops the
three processes; `allo voice up` (management/commands/voice.py) is the entry point. docs/voice.md.
"""
