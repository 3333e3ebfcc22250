"""What each AgentDojo tool does to the world, labelled from its own docstring.

A deployer who plugs a tool into casepilot says two things about it: its side-effect
class (``read_only``, ``idempotent``, ``non_idempotent`` — ``casepilot.tools.SideEffect``)
and what it lets leave the user's control (``tags``). The guardrail in
``guardrails.dmn`` reads only these labels and where each argument came from; it never
names a tool, a task, an injection or a value from the benchmark.

Each row below was written by reading the tool's docstring (quoted in the comment beside
it) and nothing else: not the user tasks, not the injection tasks, not the results. The
travel suite was labelled the same way before any run, and was not tuned against.

Tags:

* ``sends_externally`` — content or a request reaches someone outside the user's account
  (an e-mail, a chat message, a web page posted or *fetched*: a fetch sends its URL, and
  whatever the URL encodes, to a third-party server; a calendar change that e-mails the
  participants);
* ``moves_money`` — a payment, or a change to one;
* ``shares_access`` — someone gets access they did not have (a shared file, a channel, an
  invitation, a meeting);
* ``deletes_data`` — something of the user's is removed or cancelled;
* ``changes_credentials`` — a password;
* ``changes_account`` — the user's personal details of record;
* ``books_externally`` — a reservation made with a third party on the user's behalf;
* ``writes_data`` — the user's own data is created or changed (stays in the account).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from casepilot.tools import SideEffect

__all__ = ["LABELS", "TAGS", "ToolLabel", "labels_for"]

TAGS: frozenset[str] = frozenset({
    "sends_externally",
    "moves_money",
    "shares_access",
    "deletes_data",
    "changes_credentials",
    "changes_account",
    "books_externally",
    "writes_data",
})


@dataclass(frozen=True, slots=True)
class ToolLabel:
    """A tool's side-effect class and what it lets leave the user's control."""

    side_effect: SideEffect
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.tags) - TAGS
        if unknown:
            raise ValueError(f"unknown tool tags {sorted(unknown)}; known: {sorted(TAGS)}")


READ = ToolLabel("read_only")

_BANKING: dict[str, ToolLabel] = {
    "get_iban": READ,  # "Get the IBAN of the current bank account."
    "send_money": ToolLabel("non_idempotent", ("moves_money",)),  # "Sends a transaction to the recipient."
    "schedule_transaction": ToolLabel("non_idempotent", ("moves_money",)),  # "Schedule a transaction." (a new one each call)
    "update_scheduled_transaction": ToolLabel("idempotent", ("moves_money",)),  # "Update a scheduled transaction." (sets fields)
    "get_balance": READ,  # "Get the balance of the account."
    "get_most_recent_transactions": READ,  # "Get the list of the most recent transactions"
    "get_scheduled_transactions": READ,  # "Get the list of scheduled transactions."
    "read_file": READ,  # "Reads the contents of the file at the given path."
    "get_user_info": READ,  # "Get the user information."
    "update_password": ToolLabel("idempotent", ("changes_credentials",)),  # "Update the user password."
    "update_user_info": ToolLabel("idempotent", ("changes_account",)),  # "Update the user information." (name, street, city)
}

_SLACK: dict[str, ToolLabel] = {
    "get_channels": READ,  # "Get the list of channels in the slack."
    "add_user_to_channel": ToolLabel("idempotent", ("shares_access",)),  # "Add a user to a given channel."
    "read_channel_messages": READ,  # "Read the messages from the given channel."
    "read_inbox": READ,  # "Read the messages from the given user inbox."
    "send_direct_message": ToolLabel("non_idempotent", ("sends_externally",)),  # "Send a direct message ... to `recipient`"
    "send_channel_message": ToolLabel("non_idempotent", ("sends_externally",)),  # "Send a channel message ... to `channel`"
    "get_users_in_channel": READ,  # "Get the list of users in the given channel."
    # "Invites a user to the Slack workspace." / "The user email where invite should be sent."
    "invite_user_to_slack": ToolLabel("non_idempotent", ("shares_access", "sends_externally")),
    "remove_user_from_slack": ToolLabel("idempotent", ("deletes_data",)),  # "Remove a user from the Slack workspace."
    # "Returns the content of the webpage at a given URL." — reads nothing of the user's, but the
    # request (its URL and whatever the URL encodes) goes to the server that URL names.
    "get_webpage": ToolLabel("read_only", ("sends_externally",)),
    "post_webpage": ToolLabel("non_idempotent", ("sends_externally",)),  # "Posts a webpage at a given URL with the given content."
}

_CALENDAR: dict[str, ToolLabel] = {
    # "Searches calendar events that match the given query"
    "search_calendar_events": READ,
    # "Returns the appointments for the given `day`."
    "get_day_calendar_events": READ,
    # "Creates a new calendar event ... It also sends an email to the participants with the event details."
    "create_calendar_event": ToolLabel("non_idempotent", ("writes_data", "sends_externally")),
    # "Cancels the event ... It will also send an email to the participants notifying them of the cancellation."
    "cancel_calendar_event": ToolLabel("idempotent", ("deletes_data", "sends_externally")),
}

_EMAIL_SEND: dict[str, ToolLabel] = {
    # "Sends an email with the given `body` to the given `address`." (attachments may carry drive files)
    "send_email": ToolLabel("non_idempotent", ("sends_externally", "shares_access")),
}

_WORKSPACE: dict[str, ToolLabel] = {
    **_EMAIL_SEND,
    **_CALENDAR,
    "delete_email": ToolLabel("idempotent", ("deletes_data",)),  # "Deletes the email with the given `email_id` from the inbox."
    # "Returns all the unread emails ... The emails are marked as read after this function is called."
    "get_unread_emails": ToolLabel("idempotent"),
    "get_sent_emails": READ,  # "Returns all the sent emails in the inbox."
    "get_received_emails": READ,  # "Returns all the received emails in the inbox."
    "get_draft_emails": READ,  # "Returns all the draft emails in the inbox."
    "search_emails": READ,  # "Searches for emails in the inbox ..."
    "search_contacts_by_name": READ,  # "Finds contacts in the inbox's contact list by name."
    "search_contacts_by_email": READ,  # "Finds contacts in the inbox's contact list by email."
    "get_current_day": READ,  # "Returns the current day in ISO format"
    # "Reschedules the event ... It will also send an email to the participants notifying them of the rescheduling."
    "reschedule_calendar_event": ToolLabel("idempotent", ("writes_data", "sends_externally")),
    # "Adds the given `participants` to the event ... It will also email the new participants"
    "add_calendar_event_participants": ToolLabel("non_idempotent", ("shares_access", "sends_externally")),
    "append_to_file": ToolLabel("non_idempotent", ("writes_data",)),  # "Append content to a file in the cloud drive."
    "search_files_by_filename": READ,  # "Get a file from a cloud drive by its filename."
    "create_file": ToolLabel("non_idempotent", ("writes_data",)),  # "Create a new file in the cloud drive."
    "delete_file": ToolLabel("idempotent", ("deletes_data",)),  # "Delete a file from the cloud drive"
    "get_file_by_id": READ,  # "Get a file from a cloud drive by its ID."
    "list_files": READ,  # "Retrieve all files in the cloud drive."
    "share_file": ToolLabel("idempotent", ("shares_access",)),  # "Share a file with a user."
    "search_files": READ,  # "Search for files in the cloud drive by content."
}

_TRAVEL: dict[str, ToolLabel] = {
    **_EMAIL_SEND,
    **_CALENDAR,
    # "Get the user information, could be: first name, ... passport number, bank account number ..."
    "get_user_information": READ,
    "get_all_hotels_in_city": READ,
    "get_hotels_prices": READ,
    "get_rating_reviews_for_hotels": READ,
    "get_hotels_address": READ,
    "get_all_restaurants_in_city": READ,
    "get_cuisine_type_for_restaurants": READ,
    "get_restaurants_address": READ,
    "get_rating_reviews_for_restaurants": READ,
    "get_dietary_restrictions_for_all_restaurants": READ,
    "get_contact_information_for_restaurants": READ,
    "get_price_for_restaurants": READ,
    "check_restaurant_opening_hours": READ,
    "get_all_car_rental_companies_in_city": READ,
    "get_car_types_available": READ,
    "get_rating_reviews_for_car_rental": READ,
    "get_car_fuel_options": READ,
    "get_car_rental_address": READ,
    "get_car_price_per_day": READ,
    "get_flight_information": READ,  # "Get the flight information from the departure city to the arrival city."
    # "Makes a reservation for a hotel / a car rental / a restaurant with the provided details."
    "reserve_hotel": ToolLabel("non_idempotent", ("books_externally",)),
    "reserve_car_rental": ToolLabel("non_idempotent", ("books_externally",)),
    "reserve_restaurant": ToolLabel("non_idempotent", ("books_externally",)),
}

LABELS: Mapping[str, Mapping[str, ToolLabel]] = MappingProxyType({
    "banking": MappingProxyType(_BANKING),
    "slack": MappingProxyType(_SLACK),
    "workspace": MappingProxyType(_WORKSPACE),
    "travel": MappingProxyType(_TRAVEL),
})


def labels_for(suite: str, tool_names: list[str]) -> dict[str, ToolLabel]:
    """The labels of ``tool_names`` in ``suite``; a tool nobody labelled is an error, not a default.

    Failing closed: an unlabelled tool would otherwise pass as read-only with no tags.
    """
    table = LABELS.get(suite)
    if table is None:
        raise KeyError(f"no tool labels for suite {suite!r}; labelled: {sorted(LABELS)}")
    missing = [n for n in tool_names if n not in table]
    if missing:
        raise KeyError(f"suite {suite!r}: tools without a label: {missing}")
    return {n: table[n] for n in tool_names}
