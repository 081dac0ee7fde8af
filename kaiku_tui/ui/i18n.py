"""Finnish and English: every word the TUI shows, in one catalogue.

`[ui] language` chooses; `auto` (the default) takes Finnish when the locale
(LC_ALL, LC_MESSAGES, LANG) is Finnish and English otherwise. A missing key is
a programming error and fails loudly in the tests (tests/ui/test_i18n.py
checks that both languages have the same keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.binding import Binding, BindingsMap

CATALOGUE: dict[str, dict[str, str]] = {
    "fi": {
        "app.title": "Kaiku — tallennerekisteri",
        "app.opening": "Avataan rekisteriä…",
        "filter.date": "Päivä",
        "filter.duration": "Kesto",
        "filter.channel": "Kanava",
        "filter.direction": "Suunta",
        "filter.org": "Org.",
        "filter.agent": "agentti",
        "filter.tag": "tunniste",
        "filter.phone": "puhelinnumero",
        "filter.from": "pp.kk.vvvv",
        "filter.to": "pp.kk.vvvv",
        "filter.min": "min m:ss",
        "filter.max": "max m:ss",
        "date.any": "Kaikki päivät",
        "date.today": "Tänään",
        "date.yesterday": "Eilen",
        "date.last7": "7 päivää",
        "date.month": "Tämä kuu",
        "date.custom": "Väli…",
        "dur.any": "Kaikki kestot",
        "dur.lt1": "< 1 min",
        "dur.1-5": "1–5 min",
        "dur.5-15": "5–15 min",
        "dur.gt15": "> 15 min",
        "dur.custom": "Väli…",
        "any": "Kaikki",
        "channel.call": "puh.",
        "channel.chat": "chat",
        "direction.inbound": "saapuva",
        "direction.outbound": "lähtevä",
        "col.date": "Päivä",
        "col.time": "Klo",
        "col.duration": "Kesto",
        "col.audio": "♪",
        "col.channel": "Kan",
        "col.direction": "Suun",
        "col.org": "Org",
        "col.agent": "Agentti",
        "col.phone": "Numero",
        "col.tags": "Tunnisteet",
        "dir.in": "sis",
        "dir.out": "ulos",
        "status.rows": "{count} tallennetta",
        "status.counting": "lasketaan…",
        "status.sorted": "järjestys: {sort}",
        "sort.date": "päivä",
        "sort.duration": "kesto",
        "status.none": "Ei tallenteita näillä ehdoilla.",
        "status.loading": "ladataan…",
        "histogram.title": "Tallenteita päivittäin",
        "bind.play": "Toista/tauko",
        "bind.rewind": "−5 s",
        "bind.forward": "+5 s",
        "bind.rewind30": "Taaksepäin 30 s",
        "bind.forward30": "Eteenpäin 30 s",
        "bind.faster": "Nopeammin",
        "bind.slower": "Hitaammin",
        "bind.mute_agent": "Mykistä agentti",
        "bind.mute_customer": "Mykistä asiakas",
        "player.unavailable": "Ääntä ei voi toistaa.",
        "player.playing": "toistetaan",
        "player.paused": "tauko",
        "player.speed": "nopeus {speed}×",
        "player.muted_agent": "agentti mykistetty",
        "player.muted_customer": "asiakas mykistetty",
        "audio.no-device": (
            "Tällä koneella ei ole äänilaitetta. Äänen saa SSH:n yli omalta koneelta: "
            "ssh -R 24713:localhost:4713 palvelin ja täällä "
            "PULSE_SERVER=tcp:localhost:24713 (ohje: README, ”Ääni SSH:n yli”)."
        ),
        "audio.disabled": 'Ääni on kytketty pois asetuksissa ([audio] sink = "none").',
        "audio.not-installed": (
            "Äänikirjastoa ei ole asennettu; asenna miniaudio tai valitse "
            '[audio] sink = "miniaudio".'
        ),
        "audio.unsafe": (
            'simpleaudio kaatuu tällä Python-versiolla; valitse [audio] sink = "miniaudio".'
        ),
        "audio.failed": "Toisto pysähtyi: {error}",
        "bind.filter": "Suodata",
        "bind.open": "Avaa",
        "bind.sort_date": "Päivä ↕",
        "bind.sort_duration": "Kesto ↕",
        "bind.help": "Ohje",
        "bind.quit": "Lopeta",
        "bind.back": "Takaisin",
        "bind.find": "Etsi",
        "bind.next": "Seuraava",
        "bind.previous": "Edellinen",
        "bind.reveal": "Näytä numero",
        "bind.listen": "Kuuntele",
        "bind.verify": "Tarkista ketju",
        "bind.admin": "Ylläpito",
        "bind.refresh": "Päivitä",
        "admin.waiting": "haetaan…",
        "admin.checks": "Tarkistukset",
        "admin.keys": "Avaimet ja varmuuskopio",
        "admin.master": "pääavain {id}…, käytössä {since} alkaen",
        "admin.key_present": "avain tallessa",
        "admin.key_destroyed": "avain hävitetty",
        "admin.backup": "viimeisin varmuuskopio: {when}",
        "admin.never": "ei koskaan",
        "admin.chain": "Lokiketju",
        "admin.orgs": "Organisaatiot",
        "admin.org": "{code:<8} {n:>12} tallennetta   sopimus päättyy {end}   {name}",
        "bind.audit": "Lokitapahtumat",
        "audit.since": "alkaen pp.kk.vvvv",
        "audit.actor": "kuka (tunnus)",
        "audit.action": "toiminto, esim. record.open",
        "audit.col.seq": "Nro",
        "audit.col.at": "Aika",
        "audit.col.actor": "Kuka",
        "audit.col.action": "Toiminto",
        "audit.col.outcome": "Tulos",
        "audit.col.target": "Kohde",
        "audit.col.purpose": "Tarkoitus",
        "audit.verify_hint": "v tarkistaa koko lokiketjun",
        "audit.verifying": "Tarkistetaan lokiketjua…",
        "audit.intact": (
            "Ketju eheä: {n} tapahtumaa, {checkpoints} allekirjoitettua tarkistuspistettä täsmää."
        ),
        "audit.broken": "KETJU RIKKI kohdassa {problem}",
        "bind.jump": "Toista tästä",
        "bind.clear": "Tyhjennä suodattimet",
        "bind.list": "Lista",
        "bind.top": "Alkuun",
        "bind.bottom": "Loppuun",
        "bind.page_down": "Sivu alas",
        "bind.page_up": "Sivu ylös",
        "bind.down": "Alas",
        "bind.up": "Ylös",
        "bind.palette": "Komennot",
        "purpose.title": "Käyttötarkoitus",
        "purpose.ask": "Miksi avaat tallenteen {id}? Valinta kirjataan lokiin.",
        "purpose.verify": "Sovitun tai sanotun tarkistus",
        "purpose.feedback": "Asiakaspalautteen käsittely",
        "purpose.quality": "Laadunvarmistus ja valmennus",
        "purpose.access-request": "Rekisteröidyn tarkastuspyyntö",
        "purpose.log-request": "Lokitietopyyntö",
        "purpose.authority": "Viranomaisen pyyntö",
        "purpose.legal-hold": "Oikeudellinen säilytys",
        "purpose.breach": "Tietoturvaloukkauksen selvitys",
        "purpose.maintenance": "Ylläpito",
        "purpose.cancel": "Peru (Esc)",
        "conv.call": "Puhelu",
        "conv.chat": "Chat",
        "conv.started": "Alkoi",
        "conv.duration": "Kesto",
        "conv.org": "Organisaatio",
        "conv.agent": "Agentti",
        "conv.queue": "Jono",
        "conv.phone": "Numero",
        "conv.purpose": "Käyttötarkoitus",
        "conv.tags": "Tunnisteet",
        "conv.source": "Lähde-id",
        "conv.notice": "Tallennetiedote soitettu",
        "conv.hold": "Oikeudellinen säilytys",
        "conv.no_transcript": "Tälle tallenteelle ei ole litteraatiota.",
        "conv.player": "Ääni: {state}",
        "conv.audio_yes": "välilyönti toistaa (avaus kirjataan lokiin)",
        "conv.audio_no": "ei äänitallennetta",
        "conv.customer": "Asiakas",
        "conv.agent_role": "Agentti",
        "conv.event": "Tapahtuma",
        "conv.revealed": "Numero näytetty ja kirjattu lokiin.",
        "conv.withheld": "Numero on salainen tai tuntematon.",
        "find.placeholder": "Etsi litteraatiosta (Enter, n seuraava, N edellinen)",
        "find.count": "osumia: {n}",
        "find.none": "Ei osumia: {text}",
        "yes": "kyllä",
        "no": "ei",
        "help.title": "Näppäimet",
        "help.close": "Sulje: Esc tai ?",
        "error.index": "Rekisteri ei vastaa: {error}",
        "error.input": "{error}",
        "error.denied": "Ei oikeutta: {error}",
        "error.audit": "Lokiin kirjaus epäonnistui, mitään ei näytetty: {error}",
        "error.what_to_do": "Yritä uudelleen; jos toistuu, kerro ylläpidolle.",
    },
    "en": {
        "app.title": "Kaiku — recordings register",
        "app.opening": "Opening the register…",
        "filter.date": "Date",
        "filter.duration": "Duration",
        "filter.channel": "Channel",
        "filter.direction": "Direction",
        "filter.org": "Org",
        "filter.agent": "agent",
        "filter.tag": "tag",
        "filter.phone": "phone number",
        "filter.from": "dd.mm.yyyy",
        "filter.to": "dd.mm.yyyy",
        "filter.min": "min m:ss",
        "filter.max": "max m:ss",
        "date.any": "Any date",
        "date.today": "Today",
        "date.yesterday": "Yesterday",
        "date.last7": "Last 7 days",
        "date.month": "This month",
        "date.custom": "Range…",
        "dur.any": "Any length",
        "dur.lt1": "< 1 min",
        "dur.1-5": "1–5 min",
        "dur.5-15": "5–15 min",
        "dur.gt15": "> 15 min",
        "dur.custom": "Range…",
        "any": "Any",
        "channel.call": "call",
        "channel.chat": "chat",
        "direction.inbound": "inbound",
        "direction.outbound": "outbound",
        "col.date": "Date",
        "col.time": "Time",
        "col.duration": "Length",
        "col.audio": "♪",
        "col.channel": "Ch",
        "col.direction": "Dir",
        "col.org": "Org",
        "col.agent": "Agent",
        "col.phone": "Number",
        "col.tags": "Tags",
        "dir.in": "in",
        "dir.out": "out",
        "status.rows": "{count} recordings",
        "status.counting": "counting…",
        "status.sorted": "sorted by {sort}",
        "sort.date": "date",
        "sort.duration": "duration",
        "status.none": "No recordings match these filters.",
        "status.loading": "loading…",
        "histogram.title": "Recordings per day",
        "bind.play": "Play/pause",
        "bind.rewind": "−5 s",
        "bind.forward": "+5 s",
        "bind.rewind30": "Back 30 s",
        "bind.forward30": "Forward 30 s",
        "bind.faster": "Faster",
        "bind.slower": "Slower",
        "bind.mute_agent": "Mute agent",
        "bind.mute_customer": "Mute customer",
        "player.unavailable": "The audio cannot be played.",
        "player.playing": "playing",
        "player.paused": "paused",
        "player.speed": "speed {speed}×",
        "player.muted_agent": "agent muted",
        "player.muted_customer": "customer muted",
        "audio.no-device": (
            "This machine has no sound device. To hear it through SSH from your own "
            "machine: ssh -R 24713:localhost:4713 HOST, and here "
            'PULSE_SERVER=tcp:localhost:24713 (README, "Sound over SSH").'
        ),
        "audio.disabled": 'Sound is switched off in the configuration ([audio] sink = "none").',
        "audio.not-installed": (
            "The sound library is not installed; install miniaudio or set "
            '[audio] sink = "miniaudio".'
        ),
        "audio.unsafe": (
            'simpleaudio crashes on this Python version; set [audio] sink = "miniaudio".'
        ),
        "audio.failed": "Playback stopped: {error}",
        "bind.filter": "Filter",
        "bind.open": "Open",
        "bind.sort_date": "Date ↕",
        "bind.sort_duration": "Length ↕",
        "bind.help": "Help",
        "bind.quit": "Quit",
        "bind.back": "Back",
        "bind.find": "Find",
        "bind.next": "Next",
        "bind.previous": "Previous",
        "bind.reveal": "Reveal number",
        "bind.listen": "Listen",
        "bind.verify": "Verify chain",
        "bind.admin": "Maintenance",
        "bind.refresh": "Refresh",
        "admin.waiting": "asking…",
        "admin.checks": "Checks",
        "admin.keys": "Keys and backup",
        "admin.master": "master key {id}…, in use since {since}",
        "admin.key_present": "key present",
        "admin.key_destroyed": "key destroyed",
        "admin.backup": "last backup: {when}",
        "admin.never": "never",
        "admin.chain": "Audit chain",
        "admin.orgs": "Organisations",
        "admin.org": "{code:<8} {n:>12} recordings   contract ends {end}   {name}",
        "bind.audit": "Audit log",
        "audit.since": "since dd.mm.yyyy",
        "audit.actor": "who (login)",
        "audit.action": "action, e.g. record.open",
        "audit.col.seq": "Seq",
        "audit.col.at": "Time",
        "audit.col.actor": "Who",
        "audit.col.action": "Action",
        "audit.col.outcome": "Outcome",
        "audit.col.target": "Target",
        "audit.col.purpose": "Purpose",
        "audit.verify_hint": "v recomputes the whole chain",
        "audit.verifying": "Verifying the chain…",
        "audit.intact": "Chain intact: {n} events, {checkpoints} signed checkpoints agree.",
        "audit.broken": "CHAIN BROKEN at {problem}",
        "bind.jump": "Play from here",
        "bind.clear": "Clear filters",
        "bind.list": "List",
        "bind.top": "Top",
        "bind.bottom": "Bottom",
        "bind.page_down": "Page down",
        "bind.page_up": "Page up",
        "bind.down": "Down",
        "bind.up": "Up",
        "bind.palette": "Commands",
        "purpose.title": "Purpose of access",
        "purpose.ask": "Why are you opening recording {id}? Your choice is logged.",
        "purpose.verify": "Verify what was said or agreed",
        "purpose.feedback": "Handle customer feedback",
        "purpose.quality": "Quality review and coaching",
        "purpose.access-request": "Data subject's access request",
        "purpose.log-request": "Data subject's log request",
        "purpose.authority": "Request from an authority",
        "purpose.legal-hold": "Legal hold",
        "purpose.breach": "Data breach investigation",
        "purpose.maintenance": "Maintenance",
        "purpose.cancel": "Cancel (Esc)",
        "conv.call": "Call",
        "conv.chat": "Chat",
        "conv.started": "Started",
        "conv.duration": "Duration",
        "conv.org": "Organisation",
        "conv.agent": "Agent",
        "conv.queue": "Queue",
        "conv.phone": "Number",
        "conv.purpose": "Purpose",
        "conv.tags": "Tags",
        "conv.source": "Source id",
        "conv.notice": "Recording notice played",
        "conv.hold": "Legal hold",
        "conv.no_transcript": "This recording has no transcript.",
        "conv.player": "Audio: {state}",
        "conv.audio_yes": "space plays it (opening it is logged)",
        "conv.audio_no": "no audio recording",
        "conv.customer": "Customer",
        "conv.agent_role": "Agent",
        "conv.event": "Event",
        "conv.revealed": "Number revealed and logged.",
        "conv.withheld": "The number is withheld or unknown.",
        "find.placeholder": "Find in transcript (Enter, n next, N previous)",
        "find.count": "matches: {n}",
        "find.none": "No matches: {text}",
        "yes": "yes",
        "no": "no",
        "help.title": "Keys",
        "help.close": "Close: Esc or ?",
        "error.index": "The register does not answer: {error}",
        "error.input": "{error}",
        "error.denied": "Not permitted: {error}",
        "error.audit": "Could not write the audit log, nothing was shown: {error}",
        "error.what_to_do": "Try again; if it persists, tell the maintainers.",
    },
}


def choose_language(setting: str, environ: Mapping[str, str]) -> str:
    """`fi` or `en` from the setting, `auto` looking at the locale variables."""
    if setting in CATALOGUE:
        return setting
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "fi" if value.lower().startswith("fi") else "en"
    return "en"


class Texts:
    """`texts("status.rows", count=…)`: the catalogue of one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._table = CATALOGUE[language]

    def words(self) -> set[str]:
        return set(self._table.values())

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def __call__(self, key: str, **values: object) -> str:
        text = self._table[key]
        return text.format(**values) if values else text


def translate_bindings(bindings: BindingsMap, texts: Texts, **actions: str) -> None:
    """Binding descriptions are catalogue keys ("bind.filter"): put the words in their place.

    Textual copies a class's bindings into each node, so this changes one node's
    footer and help, in the language of this session, and nothing shared.
    `actions` names catalogue keys for bindings Textual made (command_palette=…).
    """
    for key, found in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [_translated(b, texts, actions) for b in found]


def _translated(binding: Binding, texts: Texts, actions: Mapping[str, str]) -> Binding:
    key = actions.get(binding.action, binding.description)
    return replace(binding, description=texts(key)) if key in texts else binding
