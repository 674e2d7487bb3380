"""Container names and ids: generation, validation, and resolving what a user typed.

Names are Docker's: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``, shown with a leading ``/`` in ``inspect``;
generated ones are ``adjective_surname`` and unique. Ids are 64 random hex digits, and any
unique prefix of one names the container. Pure functions plus ``resolve`` over the records.

Imports only the standard library, ``dockyard.errors`` and ``dockyard.metadata``.
"""

from __future__ import annotations

import os
import random
import re

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord, ContainerRecords

__all__ = ["generate_name", "new_id", "resolve", "validate_name"]

_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_HEX = re.compile(r"^[a-f0-9]{1,64}$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJECTIVES = _words(
    "admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold "
    "boring brave busy charming clever compassionate competent condescending confident cool "
    "cranky crazy dazzling determined distracted dreamy eager ecstatic elastic elated elegant "
    "eloquent epic exciting fervent festive flamboyant focused friendly frosty funny gallant "
    "gifted goofy gracious great happy hardcore heuristic hopeful hungry infallible inspiring "
    "intelligent interesting jolly jovial keen kind laughing loving lucid magical modest "
    "musing mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful "
    "pedantic pensive practical priceless quirky quizzical recursing relaxed reverent "
    "romantic sad serene sharp silly sleepy stoic strange stupefied suspicious sweet tender "
    "thirsty trusting unruffled upbeat vibrant vigilant vigorous wizardly wonderful xenodochial "
    "youthful zealous zen"
)
_SURNAMES = _words(
    "agnesi albattani allen almeida antonelli archimedes ardinghelli aryabhata austin babbage "
    "banach banzai bardeen bartik bassi beaver bell benz bhabha bhaskara black blackburn "
    "blackwell bohr booth borg bose bouman boyd brahmagupta brattain brown buck burnell cannon "
    "carson cartwright carver cerf chandrasekhar chaplygin chatelet chatterjee chaum chebyshev "
    "clarke cohen colden cori cray curie darwin davinci dewdney dhawan diffie dijkstra dirac "
    "driscoll dubinsky easley edison einstein elbakyan elgamal elion ellis engelbart euclid "
    "euler faraday feistel fermat fermi feynman franklin gagarin galileo galois ganguly gates "
    "gauss germain goldberg goldstine goldwasser golick goodall gould greider grothendieck "
    "haibt hamilton haslett hawking heisenberg hellman hermann herschel hertz heyrovsky hodgkin "
    "hofstadter hoover hopper hugle hypatia ishizaka jackson jang jemison jennings jepsen "
    "johnson joliot jones kalam kapitsa kare keldysh keller kepler khayyam khorana kilby kirch "
    "knuth kowalevski lalande lamarr lamport leakey leavitt lederberg lehmann lewin lichterman "
    "liskov lovelace lumiere mahavira margulis matsumoto maxwell mayer mccarthy mcclintock "
    "mclaren mclean mcnulty meitner mendel mendeleev meninsky merkle mestorf mirzakhani moore "
    "morse moser murdock napier nash neumann newton nightingale nobel noether northcutt noyce "
    "panini pare pascal pasteur payne perlman pike poincare poitras proskuriakova ptolemy "
    "raman ramanujan ride ritchie rhodes robinson roentgen rosalind rubin saha sammet sanderson "
    "satoshi shamir shannon shaw shirley shockley shtern sinoussi snyder solomon spence "
    "stonebraker sutherland swanson swartz swirles taussig tesla tharp thompson torvalds tu "
    "turing varahamihira vaughan villani visvesvaraya volhard wescoff wilbur wiles williams "
    "williamson wilson wing wozniak wright wu yalow yonath zhukovsky"
)


def new_id() -> str:
    """A fresh container id: 64 random hex digits."""
    return os.urandom(32).hex()


def validate_name(name: str) -> str:
    """*name* without its optional leading slash. Raises InvalidArgument (Docker's message)."""
    if not _NAME.match(name):
        raise errors.InvalidArgument(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return name.lstrip("/")


def generate_name(taken: set[str], rng: random.Random | None = None) -> str:
    """An ``adjective_surname`` not in *taken* (a digit is appended after many clashes)."""
    rng = rng or random.Random()
    for attempt in range(64):
        name = f"{rng.choice(_ADJECTIVES)}_{rng.choice(_SURNAMES)}"
        if attempt >= 8:
            name += str(rng.randint(0, 9))
        if name not in taken:
            return name
    return f"{rng.choice(_ADJECTIVES)}_{rng.choice(_SURNAMES)}_{new_id()[:6]}"


def resolve(records: ContainerRecords, ref: str) -> ContainerRecord:
    """The container *ref* names: full id, exact name (``web`` or ``/web``), or unique id prefix.

    Raises NotFound (``No such container: ref``), InvalidArgument (ambiguous prefix).
    """
    if not ref:
        raise errors.NotFound("No such container: ")
    lowered = ref.lower()
    if len(lowered) == 64 and _HEX.match(lowered):
        try:
            return records.get(lowered)
        except errors.NotFound:
            pass
    named = records.by_name(ref)
    if named is not None:
        return named
    if _HEX.match(lowered):
        ids = records.ids_with_prefix(lowered)
        if len(ids) == 1:
            return records.get(ids[0])
        if len(ids) > 1:
            raise errors.InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
    raise errors.NotFound(f"No such container: {ref}")
