"""Prompt ids: the names of the recorded prompts the flows play.

The catalogue in ``prompts/catalogue.toml`` holds each prompt's words; a test
keeps this enum and the catalogue equal, so a flow can only play a prompt that
``ivr prompts build`` produces.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Prompt(StrEnum):
    """Every prompt a flow plays, by catalogue id."""

    WELCOME = "welcome"
    MAIN_MENU = "main-menu"
    INVALID_OPTION = "invalid-option"
    WELCOME_BACK = "welcome-back"
    ENTER_ACCOUNT = "enter-account"
    ENTER_PIN = "enter-pin"
    ENTER_PIN_OR_STAR = "enter-pin-or-star"
    AUTH_FAILED = "auth-failed"
    AUTH_UNAVAILABLE = "auth-unavailable"
    ONE_MOMENT = "one-moment"
    TICKET_IN_HAND = "ticket-in-hand"
    TICKET_IN_HAND_READ_BACK = "ticket-in-hand-read-back"
    TICKET_IN_HAND_CUSTOMER = "ticket-in-hand-customer"
    TICKET_IN_HAND_HOST_ID = "ticket-in-hand-host-id"
    TICKET_IN_HAND_NOT_FOUND = "ticket-in-hand-not-found"
    ENTER_HOST_ID = "enter-host-id"
    HOST_ID_YOU_ENTERED = "host-id-you-entered"
    HOST_ID_CONFIRM = "host-id-confirm"
    HOST_ID_NOT_FOUND = "host-id-not-found"
    HOST_ID_NOT_HEARD = "host-id-not-heard"
    CONTRACT_EXPIRED = "contract-expired"
    CONTRACT_EXPIRED_TERMS = "contract-expired-terms"
    WARRANTY_INSTEAD = "warranty-instead"
    TRANSFER_RENEWALS = "transfer-renewals"
    WARRANTY_NOT_COVERED = "warranty-not-covered"
    WARRANTY_ENDED_ON = "warranty-ended-on"
    WARRANTY_EXTENSION_ONLY = "warranty-extension-only"
    DESCRIBE_HARDWARE_FAULT = "describe-hardware-fault"
    WARRANTY_TICKET_CREATED = "warranty-ticket-created"
    WARRANTY_BEST_EFFORT = "warranty-best-effort"
    TRANSFER_WARRANTY = "transfer-warranty"
    CLOSED_WARRANTY = "closed-warranty"
    DESCRIBE_PROBLEM = "describe-problem"
    TICKET_CREATED = "ticket-created"
    EMERGENCY_TICKET_CREATED = "emergency-ticket-created"
    SLA_RESPONSE_BY = "sla-response-by"
    SLA_RESPONSE_NOW = "sla-response-now"
    TRANSFER_QUEUE = "transfer-queue"
    TRANSFER_ONCALL = "transfer-oncall"
    ONCALL_UNAVAILABLE = "oncall-unavailable"
    TRANSFER_GENERAL = "transfer-general"
    CLOSED_STANDARD = "closed-standard"
    CLOSED_PREMIUM = "closed-premium"
    CALLBACK_SCHEDULED = "callback-scheduled"
    ENTER_TICKET = "enter-ticket"
    TICKET_NOT_FOUND = "ticket-not-found"
    TICKET_STATUS_IS = "ticket-status-is"
    STATUS_OPEN = "status-open"
    STATUS_ACKNOWLEDGED = "status-acknowledged"
    STATUS_RESOLVED = "status-resolved"
    TICKET_CONNECT = "ticket-connect"
    GOODBYE = "goodbye"
    ONCALL_SUMMARY = "oncall-summary"
    ONCALL_HOST_ID = "oncall-host-id"
    ONCALL_PRESS_1 = "oncall-press-1"
    ONCALL_ACCEPTED = "oncall-accepted"
    ONCALL_ALREADY_ACCEPTED = "oncall-already-accepted"
    ONCALL_LEAVE_MESSAGE = "oncall-leave-message"
    ONCALL_MESSAGE_TAKEN = "oncall-message-taken"


# Asterisk's own sounds that flows play besides the catalogue.
CORE_SOUNDS = frozenset({"beep"})


def sound_exists(prefix: str) -> Callable[[str], bool]:
    """A check for sound names as Asterisk would find them once the prompts are built."""
    names = {f"{prefix}/{p.value}" if prefix else p.value for p in Prompt} | CORE_SOUNDS
    return names.__contains__
