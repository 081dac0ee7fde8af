"""The register description (GDPR art. 30 record of processing), as configured.

The `[register_description]` section of the configuration fills it; the defaults
below describe this register as a Finnish healthcare customer service runs it,
so a deployment only has to name its controller and adjust what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaiku_tui.errors import ConfigError

PURPOSES = (
    "Verifying what was said or agreed in a customer's call or chat",
    "Handling customer feedback and complaints",
    "Quality assurance and coaching of customer service staff",
    "Answering data subjects' requests and authorities' lawful requests",
)
DATA_SUBJECTS = (
    "Customers (patients, clients and their relatives) who call or chat with the service",
    "Customer service staff whose calls and chats are recorded",
)
DATA_CATEGORIES = (
    "Audio recordings of calls, and call and chat transcripts",
    "Health information customers disclose (special category, GDPR art. 9)",
    "The customer's phone number (encrypted; searched by a blind index)",
    "Metadata: time, duration, direction, queue, organisation, agent",
    "Notes, tags, feedback cases and coaching scores about recordings",
    "The audit log of every access and disclosure",
)
RECIPIENTS = (
    "The client organisation (wellbeing services county or municipality) for its customers' "
    "feedback cases",
    "Authorities with a right to the data by law (e.g. police, Valvira, courts), each "
    "disclosure recorded in the disclosure log",
)
TRANSFERS = "No personal data is transferred outside the EU/EEA."
RETENTION = (
    "Recordings are kept for the client contract's term, at most the organisation's "
    "retention period after the recording, and destroyed when the contract ends; the "
    "audit log is kept by its own rule."
)
SECURITY = (
    "Encryption at rest: AES-256-GCM, a key per recording wrapped by the organisation's key",
    "Named persons only, roles and organisation scope; phone numbers masked",
    "Append-only, hash-chained audit log with signed checkpoints; every access audited",
    "Copies handed out only as audited exports and disclosures",
)


@dataclass(frozen=True)
class RegisterDescription:
    controller: str = ""
    controller_contact: str = ""
    dpo_contact: str = ""
    purposes: tuple[str, ...] = PURPOSES
    data_subjects: tuple[str, ...] = DATA_SUBJECTS
    data_categories: tuple[str, ...] = DATA_CATEGORIES
    recipients: tuple[str, ...] = RECIPIENTS
    transfers: str = TRANSFERS
    retention: str = RETENTION
    security: tuple[str, ...] = SECURITY
    source: str = field(default="configuration", compare=False)

    def checked(self) -> RegisterDescription:
        """Itself, if it names the controller (art. 30(1)(a) requires it)."""
        if not self.controller.strip():
            raise ConfigError(
                f"{self.source}: [register_description] controller is not set "
                '(the controller\'s name, e.g. "Hyvinvointialue X")'
            )
        return self
