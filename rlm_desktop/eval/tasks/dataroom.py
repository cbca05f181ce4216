"""A generated due-diligence data room: dozens of multi-page contracts, questions of five kinds.

The shape of what our users drop on the window: agreements of several types with a
counterparty, an effective date, a governing law, fees, a term and boilerplate, split
into pages. One share purchase agreement holds the escrow arrangement with the buyer,
surrounded by hard negatives (a source-code escrow, security deposits, other amounts).

Question kinds (``KINDS``), chosen by ``seed % 5`` in the task registry:

- ``needle``: the escrow amount agreed with the buyer (exact match, one document and page);
- ``date``: the effective date of the agreement with one named counterparty (exact match);
- ``count``: how many agreements are governed by one law (numeric partial credit);
- ``list``: which counterparties' agreements may be terminated on a change of control (F1);
- ``sum``: the total annual fees of all agreements of one type (exact match on the number).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from rlm_desktop.documents import Document
from rlm_desktop.eval.scoring import exact_match, first_integer, normalize, numeric_score
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars

NAME = "dataroom"
KINDS = ("needle", "date", "count", "list", "sum")
PAGE_CHARS = 1500

_TYPES = ("Master Services Agreement", "Supply Agreement", "Distribution Agreement", "Licence Agreement",
          "Office Lease", "Consultancy Agreement", "Maintenance Agreement", "Logistics Agreement")
_SPA_LAW = "England and Wales"
_LAWS = ("England and Wales", "the State of New York", "the Netherlands", "Germany", "Sweden", "Ireland")
_STEMS = ("Kestrel", "Nordhavn", "Alder", "Brightmoor", "Corvin", "Dunmore", "Elkridge", "Fenwick", "Galloway",
          "Harrow", "Ivel", "Juniper", "Kilbride", "Larkspur", "Marlow", "Norcott", "Oakham", "Pembury", "Quarry",
          "Redwater", "Saltash", "Thornbury", "Ulverton", "Vantage", "Wexcombe", "Yarrow", "Zennor", "Ashdown",
          "Bramley", "Calder", "Deverill", "Eastleigh", "Farrow", "Glenmore", "Hexworth", "Islay", "Jarrow",
          "Kenmare", "Loxley", "Moorfield", "Netherby", "Orwell", "Penrose", "Rydal", "Selwood", "Tarrant")
_FORMS = ("Ltd", "GmbH", "B.V.", "AB", "Inc.", "plc", "S.A.")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_BOILERPLATE = (
    "Each party shall keep confidential all information received from the other party in connection with this "
    "agreement and shall use it only for the purposes of this agreement.",
    "Neither party shall be liable for any failure or delay in performance caused by events beyond its "
    "reasonable control, including fire, flood, epidemic, war, strikes or failure of public utilities.",
    "Any notice under this agreement shall be in writing and delivered by hand, by courier or by e-mail to the "
    "address of the receiving party set out at the head of this agreement.",
    "This agreement constitutes the entire agreement between the parties and supersedes all prior "
    "negotiations, representations and understandings relating to its subject matter.",
    "No variation of this agreement shall be effective unless it is in writing and signed by authorised "
    "representatives of both parties.",
    "The supplier shall maintain insurance with reputable insurers against the risks customarily insured "
    "by businesses of its kind and shall produce evidence of such insurance on request.",
    "Each party warrants that it has full power and authority to enter into and perform this agreement and "
    "that doing so does not breach any other agreement by which it is bound.",
    "The customer may audit the supplier's records relating to the services once in any calendar year on "
    "giving not less than thirty days' written notice.",
    "If any provision of this agreement is found to be invalid or unenforceable, the remaining provisions "
    "shall continue in full force and effect.",
    "Personal data shall be processed only on documented instructions and in accordance with applicable "
    "data protection law, and appropriate technical and organisational measures shall be maintained.",
    "Invoices are payable within forty-five days of receipt; late payments bear interest at the statutory "
    "rate applicable under the governing law.",
    "The parties shall attempt in good faith to resolve any dispute through negotiation between senior "
    "executives before commencing proceedings.",
    "The supplier shall perform the services with reasonable skill and care, in accordance with good industry "
    "practice and with all applicable laws, regulations and codes of practice.",
    "Each party shall comply with all applicable anti-bribery and anti-corruption laws and shall not offer or "
    "accept any payment intended to improperly influence the other party.",
    "All intellectual property rights created by the supplier in the course of the services shall vest in the "
    "party that created them, and each party grants the other a licence to the extent needed to perform.",
    "The supplier shall not subcontract any of its obligations without the customer's prior written consent "
    "and remains responsible for the acts and omissions of its subcontractors.",
    "Each party's total liability arising under or in connection with this agreement in any contract year is "
    "limited to the fees paid or payable in that contract year, except for fraud or wilful misconduct.",
    "On expiry or termination each party shall return or destroy the other party's confidential information "
    "and certify in writing that it has done so.",
    "The supplier shall provide monthly service reports describing its performance against the service "
    "levels and any remedial action taken.",
    "A person who is not a party to this agreement has no right to enforce any of its terms.",
    "This agreement may be executed in any number of counterparts, each of which is an original and which "
    "together constitute one agreement.",
    "Time is of the essence for the payment obligations but not for any other obligation under this "
    "agreement unless expressly stated.",
    "The supplier shall keep complete and accurate records of the services and retain them for at least six "
    "years after the end of this agreement.",
    "Each party shall notify the other without undue delay of any security incident affecting the other "
    "party's data and shall cooperate in its investigation.",
)


@dataclass(frozen=True)
class Contract:
    """The facts of one generated agreement (the gold answers are computed from these)."""

    name: str
    kind: str
    counterparty: str
    effective: str
    law: str
    annual_fee: int
    change_of_control: bool


@dataclass(frozen=True)
class DataRoom:
    documents: list[Document]
    contracts: list[Contract]
    escrow_amount: str
    escrow_document: str
    escrow_page: int


_SECTORS = ("Logistics", "Marine", "Systems", "Components", "Foods", "Energy", "Software", "Textiles", "Metals",
            "Robotics", "Media", "Chemicals")


def _company(rng: random.Random, used: set[str]) -> str:
    """A new company name; its first two words ("Kestrel Marine") are unique in the data room."""
    for _ in range(1000):
        short = f"{rng.choice(_STEMS)} {rng.choice(_SECTORS)}"
        if short not in used:
            used.add(short)
            return f"{short} {rng.choice(_FORMS)}"
    raise RuntimeError("ran out of company names")  # over 500 agreements


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(2016, 2024)}"


def _money(value: int) -> str:
    return f"EUR {value:,}"


def _paginate(paragraphs: list[str]) -> list[str]:
    pages: list[str] = []
    current = ""
    for paragraph in paragraphs:
        if current and len(current) + len(paragraph) > PAGE_CHARS:
            pages.append(current.rstrip())
            current = ""
        current += paragraph + "\n\n"
    if current.strip():
        pages.append(current.rstrip())
    return pages


def _boilerplate(rng: random.Random, count: int, start: int) -> list[str]:
    chosen = rng.sample(_BOILERPLATE, k=min(count, len(_BOILERPLATE)))
    return [f"{start + i}. {text}" for i, text in enumerate(chosen)]


def _short(name: str) -> str:
    return " ".join(name.split()[:2])


def _contract_document(rng: random.Random, index: int, contract: Contract, seller: str) -> Document:
    clauses = [
        f"{contract.kind.upper()}\n\nThis {contract.kind} (the \"Agreement\") is made on {contract.effective} "
        f"(the \"Effective Date\") between {seller} (the \"Company\") and {contract.counterparty} "
        f"(the \"Counterparty\").",
        f"1. Term. The Agreement commences on the Effective Date and continues for {rng.choice((2, 3, 4, 5))} "
        f"years, renewing automatically for successive periods of one year unless either party gives "
        f"{rng.choice((3, 6, 9))} months' notice.",
        f"2. Fees. The Company shall pay the Counterparty an annual fee of {_money(contract.annual_fee)}, "
        f"invoiced quarterly in arrears.",
    ]
    body = _boilerplate(rng, rng.randint(14, 22), 3)
    number = 3 + len(body)
    if contract.change_of_control:
        body.append(f"{number}. Change of control. The Counterparty may terminate this Agreement with immediate "
                    "effect by written notice if the Company undergoes a change of control.")
    else:
        body.append(f"{number}. Assignment. Neither party may assign this Agreement without the prior written "
                    "consent of the other party, such consent not to be unreasonably withheld.")
    rng.shuffle(body)
    body = [re.sub(r"^\d+\.", f"{3 + i}.", clause) for i, clause in enumerate(body)]
    closing = [f"{4 + len(body)}. Governing law. This Agreement is governed by the laws of {contract.law}.",
               f"Signed for {seller} and for {contract.counterparty}."]
    return Document.from_pages(contract.name, _paginate(clauses + body + closing))


def _spa_document(rng: random.Random, seller: str, buyer: str, target: str, escrow: int, price: int,
                  retention: int) -> tuple[Document, int]:
    spa_clauses = rng.sample(_BOILERPLATE, k=10)
    paragraphs = [
        f"SHARE PURCHASE AGREEMENT\n\nThis Share Purchase Agreement is made on {_date(rng)} between {seller} "
        f"(the \"Seller\") and {buyer} (the \"Buyer\") for the sale of all shares in {target}.",
        f"1. Purchase price. The purchase price for the shares is {_money(price)}, payable at completion "
        "subject to the adjustments in clause 4.",
        *[f"{2 + i}. {t}" for i, t in enumerate(spa_clauses[:4])],
        f"6. Retention. The Buyer may retain {_money(retention)} of the purchase price for twelve months "
        "against warranty claims notified before that date.",
        *[f"{7 + i}. {t}" for i, t in enumerate(spa_clauses[4:7])],
        f"10. Escrow. At completion the Buyer shall pay {_money(escrow)} (the \"Escrow Amount\") into an "
        "escrow account held by the escrow agent, to be released to the Seller eighteen months after "
        "completion less any amount claimed by the Buyer under the warranties.",
        *[f"{11 + i}. {t}" for i, t in enumerate(spa_clauses[7:10])],
        f"14. Governing law. This Agreement is governed by the laws of {_SPA_LAW}.",
    ]
    pages = _paginate(paragraphs)
    escrow_page = next(i + 1 for i, page in enumerate(pages) if "Escrow Amount" in page)
    return Document.from_pages("share_purchase_agreement.md", pages), escrow_page


def _decoy_documents(rng: random.Random, seller: str) -> list[Document]:
    vendor = f"{rng.choice(_STEMS)}soft Ltd"
    deposit = rng.randint(20, 90) * 1000
    return [
        Document.from_pages("software_escrow_agreement.md", _paginate([
            f"SOURCE CODE ESCROW AGREEMENT\n\nBetween {seller} (the \"Licensee\") and {vendor} (the \"Licensor\"). "
            "The Licensor shall deposit the source code of the licensed software with the escrow agent and "
            "update the deposit with every major release.",
            "1. Release events. The deposit is released to the Licensee if the Licensor becomes insolvent or "
            "ceases to support the software.",
            *_boilerplate(rng, 4, 2)])),
        Document.from_pages("warehouse_lease.md", _paginate([
            f"WAREHOUSE LEASE\n\nThe tenant {seller} shall pay a security deposit of {_money(deposit)} to the "
            "landlord, held in a separate deposit account and returned at the end of the term.",
            *_boilerplate(rng, 5, 1)])),
    ]


def build_dataroom(length: int, seed: int) -> DataRoom:
    """At most about ``length`` approximate tokens of contracts (at least 3), deterministic in seed."""
    rng = random.Random(f"{NAME}:{length}:{seed}")
    used: set[str] = set()
    seller, buyer, target = _company(rng, used), _company(rng, used), _company(rng, used)
    escrow = rng.randint(12, 95) * 100_000
    price = escrow * rng.randint(8, 20)
    retention = rng.randint(5, 40) * 50_000
    spa, escrow_page = _spa_document(rng, seller, buyer, target, escrow, price, retention)
    documents = [spa, *_decoy_documents(rng, seller)]
    contracts: list[Contract] = []
    budget = target_chars(length)
    index = 0
    while True:
        index += 1
        kind = rng.choice(_TYPES)
        party = _company(rng, used)
        slug = kind.lower().replace(" ", "_")
        contract = Contract(name=f"{index:03d}_{slug}_{party.split()[0].lower()}.md", kind=kind, counterparty=party,
                            effective=_date(rng), law=rng.choice(_LAWS), annual_fee=rng.randint(4, 250) * 1000,
                            change_of_control=rng.random() < 0.2)
        document = _contract_document(rng, index, contract, seller)
        if sum(len(d.text) for d in documents) + len(document.text) > budget and len(contracts) >= 3:
            break
        contracts.append(contract)
        documents.append(document)
    rng.shuffle(documents)
    return DataRoom(documents, contracts, _money(escrow), spa.name, escrow_page)


def generate_kind(length: int, seed: int, kind: str) -> Instance:
    """An instance of question ``kind`` (one of ``KINDS``) over the data room of (length, seed)."""
    room = build_dataroom(length, seed)
    rng = random.Random(f"{NAME}:q:{length}:{seed}:{kind}")
    meta: dict = {"kind": kind, "documents": len(room.documents)}
    if kind == "needle":
        question = "What is the escrow amount agreed with the buyer?"
        answer, score_kind = room.escrow_amount, "money"
        meta.update(document=room.escrow_document, page=room.escrow_page)
    elif kind == "date":
        contract = rng.choice(room.contracts)
        question = f"What is the effective date of the agreement with {contract.counterparty}?"
        answer, score_kind = contract.effective, "exact"
        meta.update(document=contract.name, page=1)
    elif kind == "count":
        law = rng.choice(sorted({c.law for c in room.contracts}))
        question = f"How many of the agreements are governed by the laws of {law}?"
        spa = int(law == _SPA_LAW)  # the share purchase agreement is an agreement too
        answer, score_kind = str(sum(c.law == law for c in room.contracts) + spa), "numeric"
    elif kind == "list":
        names = sorted(c.counterparty for c in room.contracts if c.change_of_control)
        question = ("Which counterparties may terminate their agreement if the company undergoes a change of "
                    "control? List their names.")
        answer, score_kind = "; ".join(names), "names"
        meta.update(names=names)
    elif kind == "sum":
        kinds = sorted({c.kind for c in room.contracts})
        chosen = rng.choice(kinds)
        total = sum(c.annual_fee for c in room.contracts if c.kind == chosen)
        question = f"What is the total annual fee payable under all {chosen}s, in EUR?"
        answer, score_kind = str(total), "money"
        meta.update(agreement_type=chosen, count=sum(c.kind == chosen for c in room.contracts))
    else:
        raise ValueError(f"unknown data-room question kind {kind!r}; known: {', '.join(KINDS)}")
    return Instance(task=NAME, length=length, seed=seed, question=question, context=room.documents,
                    answer=answer, kind=score_kind, meta=meta)


def generate(length: int, seed: int) -> Instance:
    return generate_kind(length, seed, KINDS[seed % len(KINDS)])


def _amount(text: str) -> int | None:
    """The first amount in ``text``, reading '1.2 million' and 'EUR 1,200,000' alike."""
    match = re.search(r"(\d[\d,.]*)\s*(million|m\b)?", str(text), re.IGNORECASE)
    if not match:
        return None
    digits, scale = match.group(1).rstrip(".,"), match.group(2)
    try:
        value = float(digits.replace(",", "")) if scale else float(digits.replace(",", "").replace(".", ""))
    except ValueError:
        return None
    return int(round(value * 1_000_000)) if scale else int(value)


def score(instance: Instance, prediction: str) -> float:
    if instance.kind == "money":
        return 1.0 if _amount(prediction) == _amount(str(instance.answer)) else 0.0
    if instance.kind == "numeric":
        return numeric_score(prediction, int(str(instance.answer)))
    if instance.kind == "names":
        gold = {normalize(_short(n)) for n in instance.meta["names"]}
        said = normalize(prediction)
        pairs = re.findall(r"\b([a-z]+ [a-z]+)\b", said) + re.findall(r"\b(?=([a-z]+ [a-z]+))", said)
        named = {p for p in pairs if p.split()[0].capitalize() in _STEMS and p.split()[1].capitalize() in _SECTORS}
        found = named & gold
        if not gold:
            return 1.0 if not named else 0.0
        precision = len(found) / max(1, len(named))
        recall = len(found) / len(gold)
        return 0.0 if not found else 2 * precision * recall / (precision + recall)
    return exact_match(prediction, str(instance.answer)) or float(
        normalize(str(instance.answer)) in normalize(prediction) and first_integer(prediction) is not None)


TASK = TaskSpec(NAME, "Data room: needle, date, count, list and sum questions over generated contracts", generate,
                score)
