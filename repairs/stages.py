"""The merchant-facing stages of a fault ticket: remote diagnosis → branch → test → pickup / replacement."""

from django.utils.translation import gettext_lazy as _

REMOTE = "remote"
BRANCH = "branch"
TEST = "test"
PICKUP = "pickup"
REPLACEMENT = "replacement"
RESOLVED = "resolved"

STEP_LABELS = {
    REMOTE: _("Remote diagnosis"),
    BRANCH: _("Branch repair"),
    TEST: _("Network test"),
    PICKUP: _("Pickup"),
    REPLACEMENT: _("Replacement"),
    RESOLVED: _("Resolved remotely"),
}

# Which step each ticket status stands on, and which path through the steps it is on.
STATUS_STEP = {
    "reported": REMOTE,
    "remote_diagnosis": REMOTE,
    "resolved_remotely": RESOLVED,
    "awaiting_branch": BRANCH,
    "at_branch": BRANCH,
    "diagnosing": BRANCH,
    "repairing": BRANCH,
    "network_testing": TEST,
    "ready_for_pickup": PICKUP,
    "picked_up": PICKUP,
    "unrepairable": REPLACEMENT,
    "replacement": REPLACEMENT,
}
# Statuses whose step is finished (the merchant has nothing more to wait for on it).
STEP_DONE_STATUSES = {"picked_up", "resolved_remotely"}

PATHS = {
    RESOLVED: [REMOTE, RESOLVED],
    REPLACEMENT: [REMOTE, BRANCH, REPLACEMENT],
    PICKUP: [REMOTE, BRANCH, TEST, PICKUP],
}


def ticket_steps(status, previous_status=None):
    """The stepper for a ticket in `status` (for a closed one, pass the status it was closed from).

    A list of {"key", "label", "state"} with state "done", "current" or "todo"; empty when cancelled.
    """
    closed = status == "closed"
    effective = previous_status if closed else status
    step = STATUS_STEP.get(effective)
    if step is None:
        if not closed:
            return []
        step = PICKUP
    path = PATHS.get(step, PATHS[PICKUP])
    current = path.index(step)
    all_done = closed or effective in STEP_DONE_STATUSES
    steps = []
    for i, key in enumerate(path):
        if i < current or (i == current and all_done):
            state = "done"
        elif i == current:
            state = "current"
        else:
            state = "todo"
        steps.append({"key": key, "label": STEP_LABELS[key], "state": state})
    return steps
