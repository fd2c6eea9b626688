"""The voice adapter: one asyncio process between Kamailio (evapi), rtpengine (ng) and Allô's public
telephony API (HTTP + `ws/telephony/`). It holds only the calls in flight; the queue, the choice of
agent and the call's history stay in Allô's router.

    citizen --INVITE 3939--> Kamailio --evapi "invite"--> adapter --POST /api/telephony/calls--> Allô
      (a caller who can send keys hears the welcome and its menu first: rtpengine reports the key
       pressed (RFC 4733, JSON over UDP) and it becomes the call's ivr_choice)
    Allô --ws "bridge" (seq)--> adapter --evapi "dispatch"--> Kamailio --INVITE--> agent's phone
    BYE / CANCEL --evapi--> adapter --POST .../hangup--> Allô
    phone rings unanswered / refuses --evapi "noanswer" (parked again)--> adapter --POST .../no-answer--> Allô
    Allô --ws "hangup"--> adapter --evapi "reject" | "end" + ng "delete"--> Kamailio, rtpengine
    Allô --ws "play proposition-rappel" (closed, saturated)--> adapter: the prompt, the caller's key 1 or 2
      (or none) --POST .../callback-answer--> Allô; accepted: « rappel-enregistre », then the caller released
    Allô --ws "hold" (a consult)--> adapter: the caller held at rtpengine; --JSON-RPC dlg.bridge_dlg--> Kamailio
      calls the operator's phone and REFERs it to sip:consult-<token>@edge: that INVITE, parked, is
      dispatched to the expert's phone (the consult call); "unhold", "transfer", a hang-up end it; a phone
      hanging it up --POST .../consult-left--> Allô ends the consult, whose `unhold` follows
    Allô --ws "transfer"--> adapter --JSON-RPC tm.t_uac_start: REFER--> caller's phone, which calls
      sip:transfer-<token>@edge: parked as a new INVITE, the operator's leg ended (BYE), and the next
      "bridge" (the N2 expert the router picked) dispatches it
    Allô GET /api/telephony/sip-accounts (HA1s) --> adapter --evapi "account"--> Kamailio's htable
    REGISTER / expiry --evapi "registration"--> adapter --POST /api/telephony/agents/{agent}/phone--> Allô
    at start, after each evapi (re)connection and every minute: Allô's live calls and phones compared
    with Kamailio's dlg.list and ul.dump (JSON-RPC FIFO) --POST .../lost, .../phone--> Allô

Each command from the stream is executed once, in `seq` order, then acknowledged.

Run by `allo voice up`; alone: `ALLO_VOICE_TOKEN=… python -m allo.voice.adapter --allo URL
--evapi 127.0.0.1:8448 --ng 127.0.0.1:22222 --sip-domain 127.0.0.1`. It loads no Django.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from allo.voice import prompts, rpc
from allo.voice.api import ApiError, TelephonyApi
from allo.voice.evapi import EvapiConnection
from allo.voice.ng import NgClient

logger = logging.getLogger("allo.voice.adapter")

# the SDP of a party that receives nothing: rtpengine's "answer" with it gives the caller-facing SDP
# for early media while no phone has answered (rtpengine issue 870)
QUEUE_SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=allo-queue\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio 9 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
             # accepting RFC 4733 events: rtpengine then decodes the keys the caller presses (it does not
             # for a payload type the answer left out)
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")
ALIVE_EVERY_S = 60.0  # the API takes one keep-alive a minute per call (docs/contact_centre.md)
# a command may arrive before the answer to the POST that created its call: wait that long for it
POST_WAIT_S = 5.0
# the agents' HA1s are read again this often: a secret generated on a desk works within this delay
# (polling, rather than a push on the command stream: that stream is the router's journal of call
# commands, and a lost push would leave a phone refused; a GET every few seconds costs nothing)
ACCOUNTS_EVERY_S = 3.0
PROMPTS_EVERY_S = 30.0  # how often the announcements recorded in Allô's admin are checked
# Allô's live calls and registered phones are compared with what Kamailio has this often (and at each
# evapi connection): a call the edge lost ends « perdu », a phone it lost shows unregistered
RECONCILE_EVERY_S = 60.0
RECONCILE_RETRY_S = 5.0  # after a reconciliation that could not be done
# a call younger than this is not judged: its INVITE may still be on its way to the adapter, or the
# POST that created it in flight
RECONCILE_GRACE_S = 10
# a call the edge ended is not judged for this long: its hang-up report may not have reached Allô's
# list yet (the router applies it a moment later); one whose report failed is closed « perdu » after
ENDED_KEPT_S = 120.0
# the voice menu: this prompt (welcome and « tapez 1 pour… »), then MENU_TIMEOUT_S more for a key; the
# key pressed is the call's ivr_choice (Allô maps it: IVR_TOPICS in allo/contact_centre/services.py)
MENU_PROMPT = "accueil"
MENU_TIMEOUT_S = 5.0
MENU_KEYS = ("1", "2", "3")  # what prompts.TEXTS["accueil"] offers (IVR_TOPICS' keys)
MENU_SAID = 2  # times the menu is said: again once after a key it does not offer, then no choice
PROMPT_SECONDS_UNKNOWN = 10.0  # a prompt whose length cannot be read (not a WAV file)
DTMF_KEYS = "0123456789*#ABCD"  # RFC 4733 event codes 0-15
# a caller Allô turns away because the line is closed hears this prompt (with the hours) first, then
# the 480; at most this long
CLOSED_PROMPT = "ferme"
HOLD_PROMPT = "consultation"  # what a caller on hold hears while its operator consults an expert
CLOSED_MAX_S = 30.0
# the router's callback proposal (ProposeCallback: the destination is closed or saturated) is this
# prompt; the caller answers with a key (CALLBACK_KEYS), within the prompt's length plus
# CALLBACK_TIMEOUT_S; no key is a no: a caller is never called back without having said yes. The
# engine does not time the proposal out itself (only its lost timer, 2 h, which the keep-alive defers)
CALLBACK_PROMPT = "proposition-rappel"
CALLBACK_KEYS = {"1": True, "2": False}  # what prompts.TEXTS["proposition-rappel"] offers
CALLBACK_SAID = 2  # times the proposal is said: again once after a key that is no answer, then that is a no
CALLBACK_TIMEOUT_S = 10.0
# an accepted callback: the router sends nothing more (the call is `scheduled`, not live), so the edge
# says this once (at most CLOSED_MAX_S) and releases the caller itself, without reporting a hang-up (the
# router would take it for the caller cancelling the callback)
CALLBACK_CONFIRM_PROMPT = prompts.CALLBACK_CONFIRM_PROMPT
# a transferred caller calls back sip:<TRANSFER_PREFIX><token>@<edge> (the REFER's Refer-To); the
# token, random, says which call it is (kamailio.cfg parks only such users besides the service numbers)
TRANSFER_PREFIX = "transfer-"
# the consult call: Kamailio (dlg.bridge_dlg) refers the operator's phone to
# sip:<CONSULT_PREFIX><token>@<edge>, which it parks like a transfer's; the adapter dispatches it to the expert
CONSULT_PREFIX = "consult-"
# the operator's phone calls the consult address within this (the bridge INVITE rings at most the ring
# time, then the REFER): later, it is logged as not done (the desk's consult goes on without a call)
CONSULT_SETUP_S = 45.0
# the REFER's CSeq in the caller's dialog: above any the operator's phone may have used (it sent none,
# or a few re-INVITEs), so that the caller's phone accepts it as the newer request
REFER_CSEQ = 1000


@dataclass
class SipCall:
    """A call the edge holds: Kamailio's parked transaction, then the dialog with an agent's phone."""

    sip_call_id: str
    from_tag: str
    tindex: int
    tlabel: int
    caller: str
    dialed: str
    cseq: str = "1"
    call_id: str | None = None  # Allô's
    state: str = "parked"  # parked -> ringing (sent to a phone) -> talking (-> transferring -> parked…) -> ended
    #                        (parked -> confirming: a callback accepted, the caller hears it said -> ended)
    to_tag: str = ""
    agent: str = ""
    last_alive: float = 0.0
    early_media: bool = False  # the caller has rtpengine's SDP (183) and may hear announcements
    dtmf: bool = False  # its SDP offers RFC 4733 events: it can answer the voice menu
    menu: asyncio.Future | None = None  # while it hears the menu: the key it presses
    proposal: asyncio.Future | None = None  # while a callback proposal waits for its answer: the key
    attempts: int = 0  # phones that did not answer it (the no-answer report's event_id)
    allo_event: str = ""  # the event_id Allô knows it by (its first Call-ID's, kept after a transfer)
    from_uri: str = ""  # the caller's From URI, its Contact, the edge address it called (a transfer's REFER)
    contact: str = ""
    edge: str = ""
    to_uri: str = ""  # the answering phone's To URI and Contact (the REFER comes as from that phone)
    agent_contact: str = ""
    transfer: str = ""  # while transferring: the token of the REFER's Refer-To
    pending_agent: str = ""  # a bridge (or a play) that came before the transferred caller called back
    pending_play: dict | None = None
    playing: str = ""  # the wait's announcement rtpengine repeats to the caller (its file), until stopped
    held: bool = False  # on hold (`hold`): caller and operator's phone hear each other no more
    consult: ConsultLeg | None = None  # while on hold: the operator's call to the expert

    def __post_init__(self):
        self.allo_event = self.allo_event or event_id(self.sip_call_id)


@dataclass
class ConsultLeg:
    """The consult call of a held caller's operator: Kamailio calls the operator's phone and refers it to
    sip:consult-<token>@edge (dlg.bridge_dlg); that INVITE, parked, goes to the expert's phone."""

    token: str
    call: SipCall  # the held caller's
    expert: str
    state: str = "bridging"  # bridging (Kamailio calls the operator's phone) -> ringing (the expert's) -> talking
    #                          -> ended
    sip_call_id: str = ""  # the operator's phone's INVITE to the consult address
    from_tag: str = ""
    to_tag: str = ""
    from_uri: str = ""  # the operator's phone's From and Contact (the consult INVITE's)
    contact: str = ""
    to_uri: str = ""  # the expert's phone's To and Contact (its answer's): the BYEs at the end (end_consult)
    agent_contact: str = ""
    tindex: int = 0
    tlabel: int = 0
    cseq: str = "1"


# the telephony API takes 80 characters (contact_centre/telephony/schemas.py, EventId): a call's key keeps
# room for the «:<attempt>» of its no-answer reports
EVENT_ID_MAX = 74


def event_id(sip_call_id: str, node: str = "") -> str:
    """The API's idempotency key of a SIP call: its Call-ID, hashed when too long or not plain ASCII.
    The single unnamed node's is `sip:<Call-ID>` (as before nodes had names); a named node's is
    `sip@<node>:<Call-ID>`, so that each node's adapter knows its own calls in Allô's list (a Call-ID may
    hold ":" and "@", but never starts the key: the node comes first, and "sip:" / "sip@" tell them apart)."""
    prefix = f"sip@{node}:" if node else "sip:"
    limit = EVENT_ID_MAX - len(prefix)
    if len(sip_call_id) <= limit and all(0x21 <= ord(c) <= 0x7e for c in sip_call_id):
        return prefix + sip_call_id
    return prefix + hashlib.sha256(sip_call_id.encode()).hexdigest()[:min(64, EVENT_ID_MAX - len(prefix))]


def event_node(key: str) -> str | None:
    """The node a call's event_id names: "" for `sip:<Call-ID>` (the unnamed node's, and every SIP call
    made before nodes had names), the name for `sip@<node>:<Call-ID>`, None for a call that did not come
    through a SIP edge (another connector's)."""
    if key.startswith("sip:"):
        return ""
    if key.startswith("sip@"):
        node, sep, _ = key[4:].partition(":")
        return node if sep and node else None
    return None


def dtmf_key(datagram: bytes) -> tuple[str, str, str] | None:
    """(Call-ID, source tag, key) of one of rtpengine's DTMF reports (`dtmf-log-dest`: one JSON object
    per event, e.g. {"callid": …, "source_tag": …, "type": "DTMF", "event": 2, "duration": 80}), or
    None for anything else."""
    try:
        report = json.loads(datagram)
        code = int(report["event"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(report, dict) or report.get("type", "DTMF") != "DTMF" or not 0 <= code < len(DTMF_KEYS):
        return None
    return str(report.get("callid", "")), str(report.get("source_tag", "")), DTMF_KEYS[code]


def prompt_seconds(path: Path) -> float:
    """How long a WAV prompt lasts (the menu waits for a key from its start: this, then the timeout)."""
    try:
        with wave.open(str(path)) as audio:
            return audio.getnframes() / float(audio.getframerate())
    except (wave.Error, OSError, EOFError, ZeroDivisionError):
        return PROMPT_SECONDS_UNKNOWN


class DtmfReports(asyncio.DatagramProtocol):
    """rtpengine's DTMF reports, handed to the adapter one by one."""

    def __init__(self, on_key):
        self.on_key = on_key

    def datagram_received(self, data, addr):
        key = dtmf_key(data)
        if key is None:
            logger.info("DTMF report not understood: %r", data[:200])
        else:
            self.on_key(*key)


def calls_the_edge_lost(live: list[dict], edge: set[str], grace_s: float = RECONCILE_GRACE_S,
                        node: str = "") -> list[str]:
    """Allô's live calls (GET /api/telephony/calls) that came through this node of the SIP edge (their
    event_id names `node`: event_node) and that it no longer has (`edge`: the event_ids of its dialogs,
    of the calls the adapter holds and of those it has just ended), older than the grace. Another node's
    calls are never judged here: they are not in this Kamailio's dialogs."""
    return [c["call_id"] for c in live
            if event_node(str(c.get("event_id", ""))) == node and c["event_id"] not in edge
            and c.get("age_s", 0) >= grace_s]


def phone_corrections(accounts: list[dict], registered: set[str]) -> list[tuple[str, bool]]:
    """(agent, registered) for each SIP account (GET /api/telephony/sip-accounts) whose state in Allô
    is not Kamailio's (`registered`: the users with a contact in ul.dump)."""
    return [(a["username"], a["username"] in registered) for a in accounts
            if bool(a.get("registered")) != (a["username"] in registered)]


def confirmed_corrections(corrections: list[tuple[str, bool]], previous: set[tuple[str, bool]]
                          ) -> list[tuple[str, bool]]:
    """With DMQ peers, a phone correction seen by two reconciliations in a row: a node's `ul.dump` is the
    union of every node's registrations, but one replicated a moment late (a REGISTER on another node, a
    node that has just started and is still receiving its peers' registrations: dmq_usrloc's sync) would
    otherwise make this node report a phone unregistered that another node has just reported
    registered, and the state would flap until the next reconciliation."""
    return [c for c in corrections if c in previous]


class Adapter:
    def __init__(self, api: TelephonyApi, evapi: tuple[str, int], ng: tuple[str, int], sip_domain: str,
                 prompts: Path | None = None, rpc_fifo: Path | None = None,
                 reconcile_every: float = RECONCILE_EVERY_S, dtmf: tuple[str, int] | None = None,
                 menu_timeout: float = MENU_TIMEOUT_S, node: str = "", shared_registrations: bool = False):
        self.api = api
        self.node = node  # "" for the single unnamed node; else the first part of its calls' event_ids
        # the registrations are shared with other nodes (DMQ): a phone correction needs two reconciliations
        self.shared_registrations = shared_registrations
        self.disagreements: set[tuple[str, bool]] = set()  # the last reconciliation's phone corrections
        self.callback_timeout = CALLBACK_TIMEOUT_S
        self.dtmf_address = dtmf  # where rtpengine sends its DTMF reports; None: no voice menu
        self.menu_timeout = menu_timeout
        self.rpc_fifo = rpc_fifo
        self.reconcile_every = reconcile_every
        self.reconcile_now = asyncio.Event()  # an evapi (re)connection: Kamailio may have restarted
        self.prompts = prompts
        self.evapi_address = evapi
        self.ng_address = ng
        self.sip_domain = sip_domain
        self.evapi: EvapiConnection | None = None
        self.evapi_ready = asyncio.Event()
        self.ng: NgClient | None = None
        self.by_sip: dict[str, SipCall] = {}
        self.by_call: dict[str, SipCall] = {}
        self.posting: set[asyncio.Task] = set()
        self.background: set[asyncio.Task] = set()
        self.executed = 0  # the last command seq executed (a command sent again is skipped)
        self.acks: asyncio.Queue = asyncio.Queue()
        self.evapi_generation = 0  # +1 at each evapi connection: a restarted Kamailio has an empty htable
        self.accounts: dict[str, str] = {}  # username -> HA1 as loaded into Kamailio
        self.accounts_generation = -1  # the evapi connection they were loaded on
        self.accounts_changed = asyncio.Event()  # wakes the accounts loop early (an evapi reconnection)
        self.registrations: asyncio.Queue = asyncio.Queue()  # (agent, registered), posted in order
        self.reported: dict[str, bool] = {}  # agent -> registered state last reported to Allô
        self.registration_seen: dict[str, float] = {}  # agent -> when Kamailio last sent its state
        self.ended: dict[str, float] = {}  # event_id -> when the edge ended the call (ENDED_KEPT_S)
        self.transfers: dict[str, SipCall] = {}  # REFER token -> the call whose caller should call back
        self.consults: dict[str, ConsultLeg] = {}  # consult token -> its leg, until it ends
        self.prompts_changed = asyncio.Event()  # Allô's `prompts` command: run_prompts syncs at once
        self.consult_legs: dict[str, ConsultLeg] = {}  # the consult INVITE's Call-ID -> its leg
        self.consult_setup_s = CONSULT_SETUP_S

    # ---------------------------------------------------------------- Kamailio -> Allô

    async def run_evapi(self) -> None:
        delay = 0.2
        while True:
            try:
                self.evapi = await EvapiConnection.open(*self.evapi_address)
                self.evapi_generation += 1
                self.accounts_changed.set()
                self.reconcile_now.set()
                self.evapi_ready.set()
                delay = 0.2
                logger.info("evapi connected to %s:%s", *self.evapi_address)
                while True:
                    event = await self.evapi.receive()
                    try:
                        await self.on_event(event)
                    except (KeyError, TypeError, ValueError):  # one bad event must not stop the others
                        logger.exception("evapi event not understood: %s", event)
            except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
                self.evapi_ready.clear()
                logger.warning("evapi: %s; reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def send_kamailio(self, message: dict) -> None:
        await asyncio.wait_for(self.evapi_ready.wait(), 10)
        await self.evapi.send(message)

    async def on_event(self, event: dict) -> None:
        kind = event.get("event")
        sip_call_id = str(event.get("callid", ""))
        if kind == "invite" and str(event.get("dialed", "")).startswith(TRANSFER_PREFIX):
            await self.transferred_caller(event)
            return
        if kind == "invite" and str(event.get("dialed", "")).startswith(CONSULT_PREFIX):
            await self.consult_called(event)
            return
        if kind == "consult_refused":
            self.consult_refused(str(event.get("agent", "")), event.get("code"))
            return
        if sip_call_id in self.consult_legs:
            await self.on_consult_event(self.consult_legs[sip_call_id], kind, event)
            return
        if kind == "invite":
            call = SipCall(sip_call_id, str(event.get("fromtag", "")), int(event["tindex"]), int(event["tlabel"]),
                           str(event.get("caller", "")), str(event.get("dialed", "")), str(event.get("cseq", "1")),
                           dtmf=bool(event.get("dtmf")), from_uri=str(event.get("from", "")),
                           contact=str(event.get("contact", "")), edge=str(event.get("edge", "")),
                           allo_event=event_id(sip_call_id, self.node))
            self.by_sip[sip_call_id] = call
            if self.has_menu(call):
                self._spawn(self.menu(call))  # Allô hears of the call once the caller has chosen
            else:
                self.start_post(call)
            return
        if kind == "registration":
            registered = int(event.get("contacts", 0)) > 0
            self.registration_seen[str(event.get("user", ""))] = time.monotonic()
            self.registrations.put_nowait((str(event.get("user", "")), registered))
            return
        call = self.by_sip.get(sip_call_id)
        if call is None:
            logger.info("event %s for a call the adapter does not hold (%s)", kind, sip_call_id)
            if kind == "noanswer" and "tindex" in event:  # Allô ended it while its phone rang: release the caller
                await self.send_kamailio({"cmd": "reject", "tindex": int(event["tindex"]),
                                          "tlabel": int(event["tlabel"]), "code": 480})
            return
        if kind == "answered":
            call.state, call.to_tag = "talking", str(event.get("totag", ""))
            call.to_uri, call.agent_contact = str(event.get("to", "")), str(event.get("contact", ""))
            logger.info("call %s answered by %s", call.call_id, call.agent)
        elif kind == "noanswer":
            # Kamailio parked the INVITE again (same transaction): the caller waits for the next agent
            agent, call.agent = call.agent, ""
            call.state, call.tindex, call.tlabel = "parked", int(event["tindex"]), int(event["tlabel"])
            call.attempts += 1
            logger.info("call %s: %s's phone did not answer (%s), back to the queue", call.call_id, agent,
                        event.get("code"))
            if call.call_id and agent:
                self._spawn(self.report_no_answer(call.call_id, agent,
                                                  f"{event_id(call.sip_call_id, self.node)}:{call.attempts}"))
        elif kind == "bye" and call.state == "transferring" and event.get("side") == "agent":
            # the operator hung up once the router had the call transferred: the caller, who got the
            # REFER, still calls back (Kamailio relayed this BYE to it; the transfer does not need it)
            logger.info("call %s: the operator's phone left during the transfer", call.call_id)
        elif kind in ("bye", "cancel", "failed"):
            logger.info("call %s ended at the edge: %s %s", call.call_id, kind, event.get("side") or
                        event.get("code") or "")
            confirming = call.state == "confirming"
            await self.forget(call)
            if call.early_media:  # the queue's own dialogue in rtpengine: the whole call goes
                self._spawn(self.delete_media(call))
            if call.call_id and not confirming:  # (else post_call reports it once Allô has answered)
                # (confirming: the callback is scheduled; a hang-up reported now would cancel it)
                self._spawn(self.report_hangup(call.call_id))
        else:
            logger.warning("unknown evapi event %s", event)

    def _spawn(self, coroutine) -> asyncio.Task:
        """HTTP round trips run beside the evapi reader, never in its way (a reference is kept: the
        event loop keeps only weak ones)."""
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def start_post(self, call: SipCall, ivr_choice: str = "") -> None:
        task = self._spawn(self.post_call(call, ivr_choice))
        self.posting.add(task)  # a command for this call waits for it (POST_WAIT_S)
        task.add_done_callback(self.posting.discard)

    # ---------------------------------------------------------------- the voice menu

    def has_menu(self, call: SipCall) -> bool:
        """The caller hears the menu when it can answer it (its SDP offers RFC 4733 events), the menu
        is on (a timeout, rtpengine reporting keys) and its prompt exists."""
        return bool(call.dtmf and self.menu_timeout > 0 and self.dtmf_address and self._prompt(MENU_PROMPT))

    async def menu(self, call: SipCall) -> None:
        """The welcome and its menu (early media), until a key or the prompt's length plus the timeout;
        then the call is created in Allô with the key as its ivr_choice (none: no choice). A key the
        menu does not offer says it again from its start, once; a second such key is no choice."""
        prompt = self._prompt(MENU_PROMPT)
        call.menu = asyncio.get_running_loop().create_future()
        key = ""
        if await self.early_media(call):
            for said in range(MENU_SAID):
                if said:
                    logger.info("call %s: key %r is not in the menu: « %s » again", call.sip_call_id, key,
                                MENU_PROMPT)
                    call.menu = asyncio.get_running_loop().create_future()
                    await self.ng_request("stop media", call)
                # (its first playing decodes the file: longer than a plain request on a loaded node)
                played = await self.ng_request("play media", call, file=str(prompt), timeout=5.0)
                logger.info("call %s: « %s » played (%s)", call.sip_call_id, MENU_PROMPT, played.get("result"))
                key = ""
                with contextlib.suppress(TimeoutError):
                    key = await asyncio.wait_for(asyncio.shield(call.menu),
                                                 prompt_seconds(prompt) + self.menu_timeout)
                if key in MENU_KEYS or not key or call.state == "ended":
                    break
            if key not in MENU_KEYS:
                key = ""
        call.menu = None
        if call.state == "ended":  # hung up in the menu: it never reached Allô's queue
            logger.info("call %s from %s hung up in the menu", call.sip_call_id, call.caller)
            return
        if call.early_media:
            await self.ng_request("stop media", call)
        logger.info("call %s: menu answered %r", call.sip_call_id, key)
        self.start_post(call, key)

    def on_dtmf(self, sip_call_id: str, source_tag: str, key: str) -> None:
        call = self.by_sip.get(sip_call_id)
        if call is None or source_tag != call.from_tag:
            logger.info("key %s on %s: not a caller in the menu", key, sip_call_id)
            return
        if call.menu is not None and not call.menu.done():
            call.menu.set_result(key)
        elif call.proposal is not None and not call.proposal.done():
            call.proposal.set_result(key)  # (another key than CALLBACK_KEYS': the proposal is said again)
        else:
            logger.info("key %s from the caller of %s outside the menu: ignored", key, call.call_id)

    async def post_call(self, call: SipCall, ivr_choice: str = "") -> None:
        caller = call.caller
        try:
            call.call_id = await self.api.new_call(caller, call.dialed, call.allo_event, ivr_choice,
                                                   keepalive_s=int(ALIVE_EVERY_S))
        except ApiError as exc:
            logger.warning("Allô refused the call %s from %r: %s", call.sip_call_id, caller, exc)
            await self.reject(call, 480)
            return
        except OSError as exc:
            logger.error("Allô unreachable for the call %s: %s", call.sip_call_id, exc)
            await self.reject(call, 480)
            return
        call.last_alive = time.monotonic()
        if call.state == "ended":  # the caller gave up while the POST was in flight
            await self.report_hangup(call.call_id)
            return
        self.by_call[call.call_id] = call
        logger.info("call %s from %s on %s is Allô's %s", call.sip_call_id, caller, call.dialed, call.call_id)

    async def report_hangup(self, call_id: str) -> None:
        for attempt in range(3):
            try:
                await self.api.hangup(call_id)
                return
            except ApiError as exc:
                logger.warning("hang-up of %s refused: %s", call_id, exc)
                return
            except OSError as exc:
                logger.warning("hang-up of %s: %s (attempt %d)", call_id, exc, attempt + 1)
                await asyncio.sleep(1 + attempt)

    async def report_no_answer(self, call_id: str, agent: str, attempt: str) -> None:
        await self._report("no-answer", self.api.no_answer, call_id, agent, attempt)

    async def report_consult_left(self, call_id: str, agent: str, event: str) -> None:
        await self._report("consult-left", self.api.consult_left, call_id, agent, event)

    @staticmethod
    async def _report(what: str, post, call_id: str, *args) -> None:
        """An agent's phone's report about a call, tried three times while Allô is unreachable (its
        event id makes a report received twice count once); a refusal is logged, not retried."""
        for n in range(3):
            try:
                await post(call_id, *args)
                return
            except ApiError as exc:
                logger.warning("%s of %s refused: %s", what, call_id, exc)
                return
            except OSError as exc:
                logger.warning("%s of %s: %s (attempt %d)", what, call_id, exc, n + 1)
                await asyncio.sleep(1 + n)

    # ---------------------------------------------------------------- agents' phones

    async def run_prompts(self) -> None:
        """Keep prompts/recorded/ equal to the announcements recorded in Allô's admin: download those
        whose digest changed, remove those deleted (the spoken one plays again). At once when Allô sends
        `prompts` (an admin changed one), else every PROMPTS_EVERY_S (a command missed while away)."""
        while True:
            self.prompts_changed.clear()
            if self.prompts:
                try:
                    await self.sync_prompts()
                except (ApiError, OSError, TimeoutError, ConnectionError, KeyError, TypeError, ValueError) as exc:
                    logger.warning("recorded announcements not loaded: %s", exc)
            with contextlib.suppress(TimeoutError):  # Allô's `prompts` command, or the next check
                await asyncio.wait_for(self.prompts_changed.wait(), PROMPTS_EVERY_S)

    async def sync_prompts(self) -> None:
        folder = self.prompts / prompts.RECORDED_DIR
        listed = {str(p["name"]): str(p["sha256"]) for p in await self.api.recorded_prompts()
                  if str(p.get("name")) in prompts.RECORDABLE}  # only names this edge plays: never a path
        folder.mkdir(parents=True, exist_ok=True)
        for name, digest in listed.items():
            path = folder / f"{name}.wav"
            if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                continue
            data = await self.api.recorded_prompt(name)
            if hashlib.sha256(data).hexdigest() != digest:
                logger.warning("recorded « %s »: changed while downloaded, taken at the next check", name)
                continue
            try:
                prompts.check_recording(data)
            except ValueError as exc:  # Allô checked it at the upload: a file rtpengine cannot play is not kept
                logger.error("recorded « %s » refused: %s", name, exc)
                continue
            tmp = path.with_suffix(f".{os.getpid()}.tmp")  # nodes of one machine share the folder
            tmp.write_bytes(data)
            tmp.replace(path)
            logger.info("recorded « %s » loaded (%d bytes)", name, len(data))
        for path in folder.glob("*.wav"):
            if path.stem not in listed:
                path.unlink(missing_ok=True)
                logger.info("recorded « %s » removed: the spoken one plays again", path.stem)

    async def run_accounts(self) -> None:
        """Keep Kamailio's `sip` htable equal to Allô's SIP accounts: every account again after an
        evapi (re)connection, then only what changed."""
        warned_realm = ""
        while True:
            try:
                data = await self.api.sip_accounts()
                realm = str(data.get("realm", ""))
                if realm != self.sip_domain and realm != warned_realm:
                    warned_realm = realm
                    logger.error("Allô's SIP realm %r is not this edge's domain %r: every phone will be refused "
                                 "(ALLO_VOICE_SIP_DOMAIN must be the same for both)", realm, self.sip_domain)
                wanted = {str(a["username"]): str(a["ha1"]) for a in data.get("accounts", [])}
                await asyncio.wait_for(self.evapi_ready.wait(), 10)
                generation = self.evapi_generation
                known = self.accounts if generation == self.accounts_generation else {}
                for user, ha1 in wanted.items():
                    if known.get(user) != ha1:
                        await self.evapi.send({"cmd": "account", "user": user, "ha1": ha1})
                for user in set(known) - set(wanted):
                    await self.evapi.send({"cmd": "account", "user": user, "ha1": ""})
                first = self.accounts_generation == -1
                self.accounts, self.accounts_generation = wanted, generation
                if first:
                    logger.info("sip accounts loaded (%d)", len(wanted))
            except (ApiError, OSError, TimeoutError, ConnectionError, KeyError, TypeError, ValueError) as exc:
                logger.warning("sip accounts not loaded: %s", exc)
            self.accounts_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.accounts_changed.wait(), ACCOUNTS_EVERY_S)

    async def run_registrations(self) -> None:
        """Report each agent's registered state to Allô, in the order Kamailio saw them, once per change."""
        while True:
            agent, registered = await self.registrations.get()
            if self.reported.get(agent) == registered:
                continue
            for n in range(5):
                try:
                    await self.api.phone_state(agent, registered)
                    self.reported[agent] = registered
                    logger.info("phone of %s %s", agent, "registered" if registered else "unregistered")
                    break
                except ApiError as exc:  # no such account in Allô (removed meanwhile): nothing to report
                    logger.warning("registered state of %s refused: %s", agent, exc)
                    break
                except OSError as exc:
                    logger.warning("registered state of %s: %s (attempt %d)", agent, exc, n + 1)
                    await asyncio.sleep(1 + n)

    # ---------------------------------------------------------------- reconciliation

    async def run_reconcile(self) -> None:
        """Compare Allô's live calls and registered phones with what Kamailio has: at start, after each
        evapi (re)connection (a Kamailio restart loses its dialogs and registrations) and periodically."""
        if self.rpc_fifo is None:
            return
        wait = self.reconcile_every
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reconcile_now.wait(), wait)
            self.reconcile_now.clear()
            if not self.evapi_ready.is_set():
                continue  # Kamailio down: it has no dialog to compare with; done once it is back
            try:
                await self.reconcile()
                wait = self.reconcile_every
            except (ApiError, OSError, rpc.RpcError, KeyError, TypeError, ValueError) as exc:
                # Allô or the FIFO not answering yet (a Kamailio just started): tried again soon
                logger.warning("reconciliation not done: %s", exc)
                wait = min(RECONCILE_RETRY_S, self.reconcile_every)

    async def reconcile(self) -> None:
        # Allô's view first, then the edge's: a call or registration newer than Allô's list is on the
        # edge's side, never taken for lost
        began = time.monotonic()
        live = await self.api.live_calls()
        accounts = (await self.api.sip_accounts()).get("accounts", [])
        dialogs = rpc.dialog_call_ids(await rpc.call(self.rpc_fifo, "dlg.list"))
        registered = rpc.registered_users(await rpc.call(self.rpc_fifo, "ul.dump"))
        # an agent whose REGISTER or expiry came meanwhile is left to that event (the dump may predate it)
        corrections = [(agent, state) for agent, state in phone_corrections(accounts, registered)
                       if self.registration_seen.get(agent, 0.0) < began]
        if self.shared_registrations:
            corrections, self.disagreements = confirmed_corrections(corrections, self.disagreements), set(corrections)
        for agent, state in corrections:
            logger.info("reconciliation: phone of %s is %s at the edge", agent,
                        "registered" if state else "not registered")
            self.reported.pop(agent, None)  # reported again, whatever this adapter reported last
            self.registrations.put_nowait((agent, state))
        edge = ({event_id(c, self.node) for c in dialogs} | {c.allo_event for c in self.by_sip.values()}
                | set(self.ended))
        lost = calls_the_edge_lost(live, edge, node=self.node)
        for call_id in lost:
            logger.warning("reconciliation: call %s is no longer at the edge: closed as lost", call_id)
            try:
                await self.api.lost(call_id)
            except ApiError as exc:  # ended meanwhile (409)
                logger.info("lost call %s refused: %s", call_id, exc)
        logger.info("reconciliation done: %d live in Allô, %d dialogs at the edge, %d lost, %d phones corrected",
                    len(live), len(dialogs), len(lost), len(corrections))

    async def forget(self, call: SipCall) -> None:
        call.state = "ended"
        await self.end_consult(call, "the call ended")
        if call.menu is not None and not call.menu.done():
            call.menu.set_result("")  # the menu stops waiting for its key
        if call.proposal is not None and not call.proposal.done():
            call.proposal.set_result("")  # so does a callback proposal
        now = time.monotonic()
        self.ended = {key: at for key, at in self.ended.items() if now - at < ENDED_KEPT_S}
        self.ended[call.allo_event] = now
        self.by_sip.pop(call.sip_call_id, None)
        if call.transfer:
            self.transfers.pop(call.transfer, None)
        if call.call_id:
            self.by_call.pop(call.call_id, None)

    async def reject(self, call: SipCall, code: int) -> None:
        await self.forget(call)
        await self.send_kamailio({"cmd": "reject", "tindex": call.tindex, "tlabel": call.tlabel, "code": code})
        if call.early_media:
            await self.delete_media(call)

    # ---------------------------------------------------------------- Allô -> Kamailio

    async def run_commands(self) -> None:
        delay = 0.5
        while True:
            try:
                async for command in self.api.commands(self.acks):
                    delay = 0.5
                    await self.on_command(command)
            except ConnectionError as exc:
                logger.warning("%s; reconnecting", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def on_command(self, command: dict) -> None:
        seq = command.get("seq")
        if not isinstance(seq, int):
            logger.warning("command without seq: %s", command)
            return
        if seq <= self.executed:
            self.acks.put_nowait(self.executed)  # sent again (our ack was lost): executed once already
            return
        try:
            await self.execute(command)
        except (TimeoutError, OSError, ConnectionError) as exc:
            # Kamailio unreachable: not acknowledged, so Allô sends it again at the next connection
            raise ConnectionError(f"command {seq} not executed: {exc}") from exc
        except (KeyError, TypeError, ValueError):
            # a command this edge cannot read would come back at every connection: logged, acknowledged
            logger.exception("command %s not understood: %s", seq, command)
        self.executed = seq
        self.acks.put_nowait(seq)

    async def _call(self, call_id: str) -> SipCall | None:
        call = self.by_call.get(call_id)
        if call is None and self.posting:
            await asyncio.wait(set(self.posting), timeout=POST_WAIT_S)
            call = self.by_call.get(call_id)
        return call

    async def execute(self, command: dict) -> None:
        kind, call_id = command.get("command"), command.get("call_id", "")
        if kind == "prompts":  # an announcement recorded or deleted in Allô's admin: load them again now
            self.prompts_changed.set()
            return
        call = await self._call(call_id)
        if call is None:
            logger.info("command %s %s for a call the edge does not hold: ignored", command.get("seq"), kind)
            return
        if kind == "bridge":
            if command.get("outbound"):
                logger.warning("outbound bridge (a callback) for %s: not done by this edge yet", call_id)
                return
            if call.state == "transferring":  # dispatched once the caller calls back (transferred_caller)
                logger.info("call %s: bridge to %s once the transferred caller calls back", call_id, command["agent"])
                call.pending_agent = command["agent"]
                return
            if call.state != "parked":
                logger.warning("bridge of %s in state %s: ignored", call_id, call.state)
                return
            await self.dispatch(call, command["agent"])
        elif kind == "hangup":
            logger.info("call %s: Allô hangs up (%s) in state %s", call_id, command.get("reason"), call.state)
            if call.state == "parked" and command.get("reason") == "closed" and self._prompt(CLOSED_PROMPT):
                call.state = "closing"  # the rest runs beside the command stream
                self._spawn(self.say_closed(call))
            elif call.state == "confirming":  # (the router ends a scheduled callback's call: not expected)
                await self.release(call)
            elif call.state in ("parked", "closing"):
                await self.reject(call, 480)
            elif call.state in ("talking", "transferring"):  # (transferring: still on the operator's leg)
                await self.forget(call)
                await self.end_dialog(call)
                await self.delete_media(call)
            else:  # the agent's phone rings: Kamailio cancels it and answers the caller
                await self.forget(call)
                await self.send_kamailio({"cmd": "cancel", "callid": call.sip_call_id, "cseq": call.cseq})
                await self.delete_media(call)
        elif kind == "play" and (call.state == "parked" or call.state == "talking"
                                 and command.get("announcement") == CALLBACK_PROMPT):
            await self.play(call, command)
        elif kind == "play" and call.state == "transferring":
            call.pending_play = command
        elif kind == "transfer":  # (completing a consult: its call ends before the caller's REFER)
            await self.end_consult(call, "the consult completed")
            await self.refer(call, command)
        elif kind == "hold" and call.state == "talking":
            await self.hold(call)
            await self.start_consult(call, str(command.get("expert", "")))
        elif kind == "unhold" and call.state == "talking":
            await self.end_consult(call, "the operator takes the caller back")
            await self.unhold(call)
        else:  # e.g. a play for a call being connected (docs/voice.md, what is left)
            logger.info("command %s for %s: not done by this edge yet", kind, call_id)

    async def dispatch(self, call: SipCall, agent: str) -> None:
        if call.early_media:
            await self.ng_request("stop media", call)
        call.state, call.agent, call.playing = "ringing", agent, ""
        target = f"sip:{agent}@{self.sip_domain}"
        logger.info("call %s: dispatch to %s", call.call_id, target)
        await self.send_kamailio({"cmd": "dispatch", "tindex": call.tindex, "tlabel": call.tlabel, "target": target})

    # ---------------------------------------------------------------- transfers

    async def refer(self, call: SipCall, command: dict) -> None:
        """The router transferred a call the operator was talking on (the desk chose the destination):
        the caller's phone gets a REFER, in its dialog, as if from the operator's phone, to call
        sip:transfer-<token>@<edge>. Kamailio is a proxy: only the caller's own phone can make the new
        call, and its new INVITE comes back to this edge like the first one (parked, then dispatched
        to the expert by the router's next bridge)."""
        if call.state != "talking":
            logger.warning("transfer of %s in state %s: ignored", call.call_id, call.state)
            return
        if self.rpc_fifo is None or not (call.contact and call.edge and call.to_uri):
            logger.error("transfer of %s: no way to send the REFER (Kamailio's FIFO, the caller's contact)", call.call_id)
            return
        call.transfer = secrets.token_hex(16)
        call.state = "transferring"
        self.transfers[call.transfer] = call
        refer_to = f"sip:{TRANSFER_PREFIX}{call.transfer}@{call.edge}"
        headers = (f"From: <{call.to_uri}>;tag={call.to_tag}\r\n"
                   f"To: <{call.from_uri}>;tag={call.from_tag}\r\n"
                   f"Call-ID: {call.sip_call_id}\r\n"
                   f"CSeq: {REFER_CSEQ} REFER\r\n"
                   f"Contact: <{call.agent_contact or call.to_uri}>\r\n"
                   f"Refer-To: <{refer_to}>\r\n"
                   f"Referred-By: <sip:{call.agent}@{self.sip_domain}>\r\n"
                   "Max-Forwards: 70\r\n")
        logger.info("call %s: transfer to %s, REFER to %s (Refer-To %s)", call.call_id, command.get("centre"),
                    call.contact, refer_to)
        try:
            await rpc.call(self.rpc_fifo, "tm.t_uac_start", timeout=5.0,
                           params=["REFER", call.contact, ".", ".", headers])
        except (rpc.RpcError, OSError, ValueError) as exc:
            logger.error("transfer of %s: REFER not sent: %s", call.call_id, exc)

    async def end_dialog(self, dialog: SipCall | ConsultLeg) -> None:
        """BYE both sides of a dialog between two phones: a caller's with its agent's phone, or a consult
        call (the operator's phone placed it, the expert's answered). The placing side's BYE is sent like
        the REFER (tm.t_uac_start, CSeq REFER_CSEQ + 1, above any this edge used in that dialog), then
        Kamailio BYEs the answering phone alone (dlg_bye("callee")). Kamailio 5.6's dlg_bye("all") lost
        one side's BYE now and then (« terminating non-confirmed dialogs not supported »: the other side's
        200 had ended the dialog first), leaving a phone on a dead call; and after a REFER its CSeq for the
        caller was lower than the REFER's, which a phone refuses (500, found with baresip). Without
        Kamailio's FIFO or the placing side's contact: dlg_bye("all")."""
        if self.rpc_fifo is not None and dialog.contact and dialog.to_uri:
            headers = (f"From: <{dialog.to_uri}>;tag={dialog.to_tag}\r\n"
                       f"To: <{dialog.from_uri}>;tag={dialog.from_tag}\r\n"
                       f"Call-ID: {dialog.sip_call_id}\r\n"
                       f"CSeq: {REFER_CSEQ + 1} BYE\r\n"
                       f"Contact: <{dialog.agent_contact or dialog.to_uri}>\r\n"
                       "Max-Forwards: 70\r\n")
            try:
                await rpc.call(self.rpc_fifo, "tm.t_uac_start", timeout=5.0,
                               params=["BYE", dialog.contact, ".", ".", headers])
                await self.send_kamailio({"cmd": "end", "callid": dialog.sip_call_id, "fromtag": dialog.from_tag,
                                          "totag": dialog.to_tag, "side": "callee"})
                return
            except (rpc.RpcError, OSError, ValueError) as exc:
                logger.error("dialog %s: its placing side's BYE not sent (%s): Kamailio's instead",
                             dialog.sip_call_id, exc)
        await self.send_kamailio({"cmd": "end", "callid": dialog.sip_call_id, "fromtag": dialog.from_tag,
                                  "totag": dialog.to_tag})

    async def transferred_caller(self, event: dict) -> None:
        """The transferred caller calls back (the REFER's Refer-To): its new INVITE, parked by Kamailio,
        takes the call's place; the operator's leg is ended (BYE both sides, as the transferor does), and
        the bridge that came meanwhile is dispatched (or the announcement played)."""
        token = str(event.get("dialed", ""))[len(TRANSFER_PREFIX):]
        call = self.transfers.pop(token, None)
        tindex, tlabel = int(event["tindex"]), int(event["tlabel"])
        if call is None or call.state != "transferring":
            logger.warning("INVITE to a transfer the adapter does not hold (%s): refused", event.get("dialed"))
            await self.send_kamailio({"cmd": "reject", "tindex": tindex, "tlabel": tlabel, "code": 480})
            return
        old = SipCall(call.sip_call_id, call.from_tag, call.tindex, call.tlabel, call.caller, call.dialed,
                      to_tag=call.to_tag, allo_event=call.allo_event,
                      from_uri=call.from_uri, to_uri=call.to_uri, contact=call.contact,
                      agent_contact=call.agent_contact)
        self.by_sip.pop(call.sip_call_id, None)
        await self.end_dialog(old)
        await self.delete_media(old)
        call.sip_call_id, call.from_tag = str(event.get("callid", "")), str(event.get("fromtag", ""))
        call.tindex, call.tlabel, call.cseq = tindex, tlabel, str(event.get("cseq", "1"))
        call.contact, call.edge = str(event.get("contact", "")), str(event.get("edge", ""))
        call.from_uri, call.to_tag, call.to_uri, call.agent_contact = str(event.get("from", "")), "", "", ""
        call.state, call.agent, call.transfer, call.early_media, call.playing = "parked", "", "", False, ""
        call.held = False
        self.by_sip[call.sip_call_id] = call
        logger.info("call %s: the transferred caller called back (%s), the operator's leg ended",
                    call.call_id, call.sip_call_id)
        agent, play = call.pending_agent, call.pending_play
        call.pending_agent, call.pending_play = "", None
        if agent:
            await self.dispatch(call, agent)
        elif play:
            await self.play(call, play)

    # ---------------------------------------------------------------- the consult call

    async def start_consult(self, call: SipCall, expert: str) -> None:
        """The held caller's operator talks with the expert the router reserved: Kamailio's dialog module
        calls the operator's phone (its AoR, routed by this Kamailio: `op` is its own listener, so the
        location lookup applies) and, once answered, REFERs it to sip:consult-<token>@<edge> and hangs up
        its own leg (dlg.bridge_dlg: INVITE, REFER, BYE). The phone's INVITE to that address comes back
        parked like a transferred caller's (consult_called). Kamailio stays a proxy: no dialog is ours."""
        if not expert or not call.agent or call.consult is not None:
            return
        if self.rpc_fifo is None or not call.edge:
            logger.warning("call %s: no consult call (no Kamailio FIFO or edge address)", call.call_id)
            return
        leg = ConsultLeg(secrets.token_hex(16), call, expert)
        call.consult, self.consults[leg.token] = leg, leg
        operator = f"sip:{call.agent}@{self.sip_domain}"
        address = f"sip:{CONSULT_PREFIX}{leg.token}@{call.edge}"
        try:
            await rpc.call(self.rpc_fifo, "dlg.bridge_dlg", timeout=5.0,
                           params=[operator, address, f"sip:{call.edge}"])
        except (rpc.RpcError, OSError, ValueError) as exc:
            logger.error("call %s: consult call not started: %s", call.call_id, exc)
            call.consult = None
            self.consults.pop(leg.token, None)
            return
        logger.info("call %s: consult call: Kamailio calls %s's phone, referred to %s, for %s", call.call_id,
                    call.agent, address, expert)
        self._spawn(self.watch_consult(leg))

    async def watch_consult(self, leg: ConsultLeg) -> None:
        await asyncio.sleep(self.consult_setup_s)
        if leg.state == "bridging" and leg.call.consult is leg:
            logger.warning("call %s: the phone of %s did not call the consult address within %.0f s (Kamailio's "
                           "INVITE or REFER refused, or not answered): the consult goes on without a call",
                           leg.call.call_id, leg.call.agent, self.consult_setup_s)

    def consult_refused(self, agent: str, code) -> None:
        """Kamailio's bridge INVITE to the operator's phone failed (not registered, refused, not answered):
        the desk's consult goes on without a call."""
        for leg in list(self.consults.values()):
            if leg.state == "bridging" and leg.call.agent == agent:
                logger.warning("call %s: the phone of %s did not take the consult call (%s): the consult goes on "
                               "without a call", leg.call.call_id, agent, code)
                leg.state, leg.call.consult = "ended", None
                self.consults.pop(leg.token, None)
                return
        logger.info("consult call refused by the phone of %s (%s): no consult under way", agent, code)

    async def consult_called(self, event: dict) -> None:
        """The operator's phone, referred by Kamailio, calls the consult address: its parked INVITE goes to
        the expert's phone (an unknown or ended consult: 480)."""
        token = str(event.get("dialed", ""))[len(CONSULT_PREFIX):]
        leg = self.consults.get(token)
        tindex, tlabel = int(event["tindex"]), int(event["tlabel"])
        if leg is None or leg.state != "bridging":
            logger.warning("INVITE to a consult the adapter does not hold (%s): refused", event.get("dialed"))
            await self.send_kamailio({"cmd": "reject", "tindex": tindex, "tlabel": tlabel, "code": 480})
            return
        leg.sip_call_id, leg.from_tag = str(event.get("callid", "")), str(event.get("fromtag", ""))
        leg.from_uri, leg.contact = str(event.get("from", "")), str(event.get("contact", ""))
        leg.tindex, leg.tlabel, leg.cseq = tindex, tlabel, str(event.get("cseq", "1"))
        leg.state = "ringing"
        self.consult_legs[leg.sip_call_id] = leg
        target = f"sip:{leg.expert}@{self.sip_domain}"
        logger.info("call %s: the operator's phone calls the consult address (%s): dispatch to %s",
                    leg.call.call_id, leg.sip_call_id, target)
        await self.send_kamailio({"cmd": "dispatch", "tindex": tindex, "tlabel": tlabel, "target": target})

    async def on_consult_event(self, leg: ConsultLeg, kind: str, event: dict) -> None:
        call = leg.call
        if kind == "answered":
            leg.state, leg.to_tag = "talking", str(event.get("totag", ""))
            leg.to_uri, leg.agent_contact = str(event.get("to", "")), str(event.get("contact", ""))
            logger.info("call %s: consult call answered by %s: the operator and the expert talk", call.call_id,
                        leg.expert)
        elif kind == "noanswer":
            # the expert's phone did not answer (Kamailio parked the INVITE again): the operator's phone is
            # released, and Allô hears it as the expert's no-answer: the engine ends the consult
            # « no_answer » (the operator keeps the caller) and the router sends `unhold`
            self._drop_consult(leg)
            logger.info("call %s: the expert %s's phone did not answer the consult call (%s)", call.call_id,
                        leg.expert, event.get("code"))
            await self.send_kamailio({"cmd": "reject", "tindex": int(event["tindex"]), "tlabel": int(event["tlabel"]),
                                      "code": 480})
            await self.delete_media(leg)
            if call.call_id and call.state != "ended":
                self._spawn(self.report_no_answer(call.call_id, leg.expert,
                                                  f"{event_id(leg.sip_call_id, self.node)}:1"))
        elif kind == "bye":
            # a phone hung up the consult call: the consult ends as if its agent had ended it on the desk
            # (the expert declines, the operator takes the caller back); the router's `unhold` follows.
            # The operator's phone placed the consult call: its BYE is the dialog's caller side's
            self._drop_consult(leg)
            agent = call.agent if event.get("side") == "caller" else leg.expert
            logger.info("call %s: %s's phone hung up the consult call", call.call_id, agent)
            if call.call_id and call.state != "ended":
                self._spawn(self.report_consult_left(call.call_id, agent,
                                                     event_id(leg.sip_call_id, self.node)))
        elif kind in ("cancel", "failed"):
            # the consult INVITE failed before an answer: the desk's consult goes on (its end or completion
            # decides; the expert's no-answer is reported above)
            self._drop_consult(leg)
            await self.delete_media(leg)
            logger.info("call %s: the consult call ended at the edge: %s %s", call.call_id, kind,
                        event.get("code") or "")
        else:
            logger.warning("unknown evapi event for a consult call: %s", event)

    def _drop_consult(self, leg: ConsultLeg) -> None:
        leg.state = "ended"
        if leg.call.consult is leg:
            leg.call.consult = None
        self.consults.pop(leg.token, None)
        self.consult_legs.pop(leg.sip_call_id, None)

    async def end_consult(self, call: SipCall, why: str) -> None:
        """End a held caller's consult call, if any: both phones get a BYE (end_dialog), or the
        expert's ringing phone a CANCEL (the operator's phone then gets 480), and its media session goes.
        Before Kamailio's bridge is answered, the token is only forgotten (a late INVITE gets 480)."""
        leg = call.consult
        if leg is None:
            return
        state = leg.state
        self._drop_consult(leg)
        if state == "talking":
            await self.end_dialog(leg)
        elif state == "ringing":  # the failure route parks it again and reports a noanswer: then 480
            await self.send_kamailio({"cmd": "cancel", "callid": leg.sip_call_id, "cseq": leg.cseq})
        if state in ("talking", "ringing"):
            await self.delete_media(leg)
        logger.info("call %s: consult call ended (%s, was %s)", call.call_id, why, state)

    def _prompt_file(self, name: str) -> Path | None:
        """The announcement's file: the one recorded in Allô's admin if there is one (prompts/recorded/),
        else the spoken one; None without a prompts folder."""
        if not self.prompts:
            return None
        recorded = self.prompts / prompts.RECORDED_DIR / f"{name}.wav"
        return recorded if recorded.exists() else self.prompts / f"{name}.wav"

    def _prompt(self, name: str) -> Path | None:
        prompt = self._prompt_file(name)
        return prompt if prompt is not None and prompt.exists() and self.ng is not None else None

    async def play_once(self, call: SipCall, prompt: Path, name: str) -> None:
        """Play `prompt` once to the caller, then wait its length (CLOSED_MAX_S at most) while the call
        stays in the state it had: a goodbye before the edge ends the call itself."""
        state = call.state
        played = await self.ng_request("play media", call, file=str(prompt), timeout=5.0)
        logger.info("call %s: « %s » played (%s)", call.call_id, name, played.get("result"))
        if played.get("result") == "ok":
            until = time.monotonic() + min(prompt_seconds(prompt) + 0.5, CLOSED_MAX_S)
            while call.state == state and time.monotonic() < until:
                await asyncio.sleep(0.2)

    async def say_closed(self, call: SipCall) -> None:
        """« fermé » with the hours to a caller Allô turned away (the line is closed), then the 480."""
        prompt, playing = self._prompt(CLOSED_PROMPT), call.early_media
        if await self.early_media(call) and call.state == "closing":
            if playing:  # the wait's announcement may be playing
                await self.ng_request("stop media", call)
                call.playing = ""
            await self.play_once(call, prompt, CLOSED_PROMPT)
        if call.state == "closing":  # (not hung up meanwhile)
            await self.reject(call, 480)

    async def play(self, call: SipCall, command: dict) -> None:
        """The router's `play` for a parked caller: the callback proposal waits for the caller's key
        beside the command stream; any other announcement is played (announce)."""
        if command.get("announcement") == CALLBACK_PROMPT:
            if call.proposal is None:  # (one proposal at a time)
                call.proposal = asyncio.get_running_loop().create_future()
                self._spawn(self.propose_callback(call, command))
        else:
            await self.announce(call, command)

    async def propose_callback(self, call: SipCall, command: dict) -> None:
        """The router proposes a callback (the destination is closed or saturated): « proposition-rappel »,
        then the caller's key, 1 (yes) or 2 (no), posted as the answer (`callback-answer`); no key within
        the prompt's length plus `callback_timeout` is a no. A no: the router ends the call `declined`
        (its `hangup` releases the caller). A yes: the call is scheduled and the router sends nothing
        more, so the edge says « rappel-enregistre » and releases the caller itself. A caller who cannot
        press keys (no RFC 4733 events in its SDP, no DTMF reports, no prompt) is answered no at once:
        it cannot say yes.

        Two cases. A waiting caller (parked: a centre closing on its queue) hears it as early media, as
        « attente ». A caller still on its operator's phone (the operator transferred it to an N2
        destination closed or saturated: the router sent no `transfer`) hears it in that dialog:
        rtpengine stops relaying the operator's side to it (`block media` of the phone's tag, as `hold`;
        the caller's own side is left flowing, its keys with it) and plays the prompt."""
        prompt, key, state = self._prompt(CALLBACK_PROMPT), "", call.state
        try:
            if not (call.dtmf and self.dtmf_address and prompt is not None):
                logger.info("call %s: a callback proposal it cannot answer by keys (%s): declined", call.call_id,
                            "no prompt" if prompt is None else "no RFC 4733 keys")
            elif state == "talking" or (await self.early_media(call) and call.state == "parked"):
                if call.playing:  # the wait's (or the hold's) announcement
                    await self.ng_request("stop media", call)
                    call.playing = ""
                if state == "talking":
                    for tag in self._phone_side(call):
                        await self.ng_request("block media", call, tag=tag)
                for said in range(CALLBACK_SAID):
                    if said:  # a key that is no answer: the proposal again, from its start
                        logger.info("call %s: key %r is not an answer: « %s » again", call.call_id, key,
                                    CALLBACK_PROMPT)
                        call.proposal = asyncio.get_running_loop().create_future()
                        await self.ng_request("stop media", call)
                    played = await self.ng_request("play media", call, file=str(prompt), timeout=5.0)
                    logger.info("call %s: « %s » played (%s, %s, at %s)", call.call_id, CALLBACK_PROMPT,
                                played.get("result"), command.get("reason"), command.get("at_local", command.get("at")))
                    key = ""
                    if played.get("result") == "ok":
                        with contextlib.suppress(TimeoutError):
                            key = await asyncio.wait_for(asyncio.shield(call.proposal),
                                                         prompt_seconds(prompt) + self.callback_timeout)
                    if key in CALLBACK_KEYS or not key or call.state != state:
                        break
        finally:
            call.proposal = None
        if call.state != state:  # hung up (reported as such: the proposal left unanswered) or ended
            return
        accepted = CALLBACK_KEYS.get(key, False)
        logger.info("call %s: callback %s (key %r)", call.call_id, "accepted" if accepted else "declined", key)
        if call.early_media or state == "talking":
            await self.ng_request("stop media", call)
        if accepted:
            call.state = "confirming"  # from now on a hang-up is not reported: the callback stands
        if not await self.report_callback_answer(call.call_id, accepted):
            # Allô did not take it: the caller is released and the call reported ended (abandoned)
            if call.state != "ended":
                await self.release(call)
            await self.report_hangup(call.call_id)
            return
        if accepted:
            await self.say_callback_confirmed(call, command)
        # declined: the router's `hangup` (declined) releases the caller

    async def release(self, call: SipCall) -> None:
        """End a call Allô will send nothing more for: a parked caller's INVITE is refused (480), a
        dialog (the caller and the operator's phone) gets a BYE on both sides."""
        if not call.to_tag:
            await self.reject(call, 480)
            return
        await self.forget(call)
        await self.end_dialog(call)
        await self.delete_media(call)

    async def report_callback_answer(self, call_id: str, accepted: bool) -> bool:
        for n in range(3):
            try:
                await self.api.callback_answer(call_id, accepted)
                return True
            except ApiError as exc:
                logger.warning("callback answer of %s refused: %s", call_id, exc)
                return False
            except OSError as exc:
                logger.warning("callback answer of %s: %s (attempt %d)", call_id, exc, n + 1)
                await asyncio.sleep(1 + n)
        return False

    async def say_callback_confirmed(self, call: SipCall, proposal: dict) -> None:
        """The callback's day and time (the proposal's `at_local`, `today`) then « rappel-enregistre »,
        once (if it exists), then the caller is released (release): Allô has nothing more to send for
        this call."""
        prompt = None
        if self.prompts and self.ng is not None:
            prompt = await asyncio.to_thread(prompts.confirmation_prompt, self.prompts, proposal.get("at_local"),
                                             proposal.get("today"))
        if prompt is not None and call.state == "confirming" and (call.early_media or call.to_tag):
            await self.play_once(call, prompt, CALLBACK_CONFIRM_PROMPT)
        if call.state == "confirming":  # (not hung up meanwhile)
            await self.release(call)

    async def announce(self, call: SipCall, command: dict) -> None:
        """Play the router's announcement to a waiting caller: early media first (183 with rtpengine's
        SDP), then rtpengine's `play media`, repeated until the call is bridged or ends. « attente »
        (spoken, or recorded in Allô) says the caller's position and expected wait first
        (prompts.waiting_prompt: composed once per pair, off the event loop). A new `play` (the call
        queued again) replaces what plays, unless it is the same file."""
        name = command.get("announcement", "")
        if name == prompts.WAIT_PROMPT and self.ng is not None and self.prompts:
            prompt = await asyncio.to_thread(prompts.waiting_prompt, self.prompts, command.get("position"),
                                             command.get("expected_wait_s"))
        else:
            prompt = self._prompt_file(name)
        if prompt is None or not prompt.exists() or self.ng is None:
            logger.info("call %s: no « %s » prompt to play", call.call_id, name)
            return
        if not await self.early_media(call) or call.state != "parked":  # (bridged or ended meanwhile)
            return
        if call.playing == str(prompt):
            return
        if call.playing:
            await self.ng_request("stop media", call)
        played = await self.ng_request("play media", call, file=str(prompt), **{"repeat-times": 100})
        call.playing = str(prompt) if played.get("result") == "ok" else ""
        logger.info("call %s: « %s » played (%s)", call.call_id, prompt.stem, played.get("result"))

    @staticmethod
    def _phone_side(call: SipCall) -> list[str]:
        """rtpengine's tags for the agent's side of a call in conversation: the phone's, and after early
        media the queue's placeholder party (`allo-queue-<caller's tag>`), through which rtpengine then
        relays the phone's audio (blocking the phone's tag alone left the caller hearing the operator:
        found with baresip)."""
        tags = [call.to_tag] if call.to_tag else []
        if call.early_media:
            tags.append("allo-queue-" + call.from_tag)
        return tags

    async def hold(self, call: SipCall) -> None:
        """The operator consults an expert before a transfer: rtpengine stops relaying the caller's audio
        to the operator's phone and the operator's to the caller (`block media` of each side), and plays
        « consultation » to the caller, repeated, until `unhold` or the transfer's REFER moves it. The
        phones keep their dialog: nothing is signalled to them (a re-INVITE would need a B2BUA)."""
        if self.ng is None or call.held:
            return
        call.held = True
        await self.ng_request("block media", call)
        for tag in self._phone_side(call):
            await self.ng_request("block media", call, tag=tag)
        prompt = self._prompt(HOLD_PROMPT)
        if prompt is not None:
            played = await self.ng_request("play media", call, file=str(prompt), **{"repeat-times": 100})
            call.playing = str(prompt) if played.get("result") == "ok" else ""
        logger.info("call %s: on hold (%s)", call.call_id, "« consultation »" if call.playing else "silence")

    async def unhold(self, call: SipCall) -> None:
        """The consult ended without a transfer: the caller and the operator hear each other again."""
        if self.ng is None or not call.held:
            return
        call.held = False
        if call.playing:
            await self.ng_request("stop media", call)
            call.playing = ""
        await self.ng_request("unblock media", call)
        for tag in self._phone_side(call):
            await self.ng_request("unblock media", call, tag=tag)
        logger.info("call %s: back with its operator", call.call_id)

    async def early_media(self, call: SipCall) -> bool:
        """The caller gets rtpengine's SDP in a 183 (once): it hears what rtpengine plays to it, and
        rtpengine reads the keys it presses. False when rtpengine did not answer."""
        if call.early_media:
            return True
        if self.ng is None:
            return False
        answer = await self.ng_request("answer", call, **{
            "to-tag": "allo-queue-" + call.from_tag, "sdp": QUEUE_SDP, "replace": ["origin", "session-connection"]})
        if answer.get("result") != "ok" or not answer.get("sdp"):
            return False
        await self.send_kamailio({"cmd": "early_media", "tindex": call.tindex, "tlabel": call.tlabel,
                                  "sdp": answer["sdp"]})
        call.early_media = True
        return True

    async def ng_request(self, command: str, call: SipCall, tag: str = "", **params) -> dict:
        """An ng command about a call's caller side (or the side of `tag`: the agent's phone); its failure
        is logged, never raised (media is not worth losing the call for)."""
        try:
            answer = await self.ng.request(command, **{"call-id": call.sip_call_id,
                                                       "from-tag": tag or call.from_tag}, **params)
        except (TimeoutError, OSError) as exc:
            logger.warning("rtpengine %s for %s: %s", command, call.call_id, exc)
            return {}
        if answer.get("result") != "ok":
            logger.warning("rtpengine %s for %s: %s", command, call.call_id, answer.get("error-reason"))
        return answer

    async def delete_media(self, call: SipCall | ConsultLeg) -> None:
        if self.ng is None:
            return
        try:  # the Call-ID alone: every dialogue of the call (the queue's included)
            answer = await self.ng.request("delete", **{"call-id": call.sip_call_id})
            if answer.get("result") != "ok":
                logger.info("rtpengine delete %s: %s", call.sip_call_id, answer.get("error-reason"))
        except (TimeoutError, OSError) as exc:
            logger.warning("rtpengine delete %s: %s", call.sip_call_id, exc)

    # ---------------------------------------------------------------- keep-alive

    async def run_keepalive(self) -> None:
        """A sign of life for each call every ALIVE_EVERY_S (announced as its `keepalive_s`): a conversation
        longer than Allô's lost timer (2 h) is not closed as lost while it lasts, and when this node dies
        its waiting callers are closed « perdu » after 5 missed (5 minutes), not 2 hours."""
        while True:
            await asyncio.sleep(5)
            now = time.monotonic()
            for call in list(self.by_call.values()):
                if call.call_id and now - call.last_alive >= ALIVE_EVERY_S:
                    call.last_alive = now
                    try:
                        await self.api.alive(call.call_id)
                    except ApiError as exc:
                        logger.info("keep-alive of %s refused: %s", call.call_id, exc)
                    except OSError as exc:
                        logger.warning("keep-alive of %s: %s", call.call_id, exc)

    # ---------------------------------------------------------------- process

    async def run(self) -> None:
        try:
            self.ng = await NgClient.open(self.ng_address)
            answer = await self.ng.request("ping")
            logger.info("rtpengine at %s:%s: %s", *self.ng_address, answer.get("result"))
        except (TimeoutError, OSError) as exc:
            logger.warning("rtpengine at %s:%s does not answer: %s", *self.ng_address, exc)
        dtmf = None
        if self.dtmf_address:
            try:
                dtmf, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: DtmfReports(self.on_dtmf), local_addr=self.dtmf_address)
            except OSError as exc:  # no menu then: callers go straight to the queue
                logger.error("DTMF reports on %s:%s: %s; no voice menu", *self.dtmf_address, exc)
                self.dtmf_address = None
        tasks = [asyncio.create_task(self.run_evapi()), asyncio.create_task(self.run_commands()),
                 asyncio.create_task(self.run_keepalive()), asyncio.create_task(self.run_accounts()),
                 asyncio.create_task(self.run_registrations()), asyncio.create_task(self.run_reconcile()),
                 asyncio.create_task(self.run_prompts())]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            if self.evapi is not None:
                await self.evapi.close()
            if self.ng is not None:
                self.ng.close()
            if dtmf is not None:
                dtmf.close()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m allo.voice.adapter", description=__doc__.split("\n")[0])
    parser.add_argument("--allo", required=True, help="Allô's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--evapi", default="127.0.0.1:8448")
    parser.add_argument("--ng", default="127.0.0.1:22222")
    parser.add_argument("--sip-domain", default="127.0.0.1")
    parser.add_argument("--prompts", type=Path, help="folder of the announcements (<name>.wav)")
    parser.add_argument("--dtmf", help="HOST:PORT where rtpengine sends its DTMF reports: without it, no menu")
    parser.add_argument("--menu-timeout", type=float, default=MENU_TIMEOUT_S,
                        help="seconds a caller has to press a key after the welcome (0: no menu)")
    parser.add_argument("--rpc-fifo", type=Path, help="Kamailio's JSON-RPC FIFO: without it, no reconciliation")
    parser.add_argument("--reconcile-every", type=float, default=RECONCILE_EVERY_S,
                        help="seconds between two reconciliations with Kamailio (also at each evapi connection)")
    parser.add_argument("--node", default="", help="this node's name: its calls' event_ids are sip@<node>:<Call-ID> "
                        "and it reconciles only those (default: the single unnamed node, sip:<Call-ID>)")
    parser.add_argument("--shared-registrations", action="store_true",
                        help="Kamailio shares its registrations with other nodes (DMQ): a phone's state is "
                        "corrected only when two reconciliations in a row see it wrong")
    parser.add_argument("--log-level", default="INFO", help="INFO logs each call's steps (allo voice up reads "
                        "\"evapi connected\" and \"telephony stream connected\" to know it is ready)")
    args = parser.parse_args(argv)
    token = os.environ.get("ALLO_VOICE_TOKEN", "")
    if not token:
        parser.error("ALLO_VOICE_TOKEN (a telephony token) is not set")
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    adapter = Adapter(TelephonyApi(args.allo, token, node=args.node), _address(args.evapi), _address(args.ng), args.sip_domain,
                      args.prompts, args.rpc_fifo, args.reconcile_every,
                      _address(args.dtmf) if args.dtmf else None, args.menu_timeout, args.node,
                      args.shared_registrations)

    async def serve() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await adapter.run()

    asyncio.run(serve())
    logger.info("adapter stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
