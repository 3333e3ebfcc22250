"""``casepilot init NAME``: a working case bundle to start your own from.

The scaffold is small but has every part a real case needs, and it works as generated: it
validates, its CMMN scenarios pass (``casepilot cmmn test NAME/scenarios``), and it deploys and
runs offline. An application is scored by one tool; a stage then sends an offer (a second
tool) straight away or after an underwriter's review (a human task); a milestone marks the offer
sent; a DMN guardrail sends large offers to a credit committee first. Change the names, the
model and the tools from there.
"""

from __future__ import annotations

import re
from pathlib import Path

from casepilot.errors import CasepilotError

__all__ = ["scaffold"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")

_MANIFEST = """\
# {title}: a case bundle made by `casepilot init`. Everything the case needs is named here;
# the files of this folder that are not (notes, scripts, README.md) are not deployed.
key: {slug}
model: {slug}.cmmn
case: {ident}
# The Python tools the bindings call besides the built-in ones: {ident}_tools.py beside this
# file is deployed with the bundle (module:attribute; an installed module works the same way).
tools: [{ident}_tools:registry]
description: An application is scored, then offered at once or after an underwriter's review.
human_tasks:
  Underwriter review:
    role: underwriter
    options: [approve, decline]
    result: review
    question: Approve or decline this application?
governance:
  guardrails:
    # Offers over 50,000 wait for the credit committee (guardrails.dmn, decision "Offer limits").
    - {{file: guardrails.dmn, decision: Offer limits, applies_to: [tool_call], amount: amount}}
  roles: [credit committee]
  # Who runs and repairs these cases, and answers checkpoints that name no role.
  operator_role: operations
  starter_role: intake
"""

_MODEL = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- {title}: score the application, then send an offer at once (score 600 or more) or after an
     underwriter approved it. Conditions are FEEL over the case file. -->
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"
             id="defs_{ident}" name="{title}" targetNamespace="https://example.com/cases/{slug}">
  <caseFileItemDefinition id="cfid_value" name="Value" definitionType="http://www.omg.org/spec/CMMN/DefinitionType/Unspecified"/>
  <case id="{ident}" name="{title}">
    <caseFileModel id="cfm_{ident}">
      <caseFileItem id="cfi_applicant" name="applicant" definitionRef="cfid_value" multiplicity="ExactlyOne"/>
      <caseFileItem id="cfi_income" name="income" definitionRef="cfid_value" multiplicity="ExactlyOne"/>
      <caseFileItem id="cfi_amount" name="amount" definitionRef="cfid_value" multiplicity="ExactlyOne"/>
      <caseFileItem id="cfi_score" name="score" definitionRef="cfid_value" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_review" name="review" definitionRef="cfid_value" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_offer" name="offer" definitionRef="cfid_value" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm_{ident}" name="{title}" autoComplete="true">
      <planItem id="pi_score" name="Score application" definitionRef="t_score"/>
      <planItem id="pi_decision" name="Decision" definitionRef="st_decision">
        <entryCriterion id="ec_decision" sentryRef="s_scored"/>
      </planItem>
      <planItem id="pi_offered" name="Offer sent" definitionRef="ms_offered">
        <entryCriterion id="ec_offered" sentryRef="s_offer_sent"/>
      </planItem>
      <sentry id="s_scored">
        <planItemOnPart id="op_scored" sourceRef="pi_score"><standardEvent>complete</standardEvent></planItemOnPart>
      </sentry>
      <sentry id="s_offer_sent">
        <planItemOnPart id="op_offer_sent" sourceRef="pi_offer"><standardEvent>complete</standardEvent></planItemOnPart>
      </sentry>
      <task id="t_score" name="Score application"/>
      <milestone id="ms_offered" name="Offer sent"/>
      <stage id="st_decision" name="Decision" autoComplete="true">
        <planItem id="pi_review" name="Underwriter review" definitionRef="ht_review">
          <entryCriterion id="ec_review" sentryRef="s_needs_review"/>
        </planItem>
        <planItem id="pi_offer" name="Send offer" definitionRef="t_offer">
          <entryCriterion id="ec_offer_direct" sentryRef="s_good_score"/>
          <entryCriterion id="ec_offer_reviewed" sentryRef="s_approved"/>
        </planItem>
        <sentry id="s_needs_review">
          <ifPart id="if_needs_review"><condition>score &lt; 600</condition></ifPart>
        </sentry>
        <sentry id="s_good_score">
          <ifPart id="if_good_score"><condition>score &gt;= 600</condition></ifPart>
        </sentry>
        <sentry id="s_approved">
          <planItemOnPart id="op_reviewed" sourceRef="pi_review"><standardEvent>complete</standardEvent></planItemOnPart>
          <ifPart id="if_approved"><condition>review.decision = "approve"</condition></ifPart>
        </sentry>
        <humanTask id="ht_review" name="Underwriter review"/>
        <task id="t_offer" name="Send offer"/>
      </stage>
    </casePlanModel>
  </case>
</definitions>
"""

_BINDINGS = """\
# Which tool runs each task of {slug}.cmmn: case-file variables to its arguments (inputs) and its
# results back to the case file (outputs).
bindings:
  - task: Score application
    tool: {ident}_score
    inputs: {{income: income, amount: amount}}
    outputs: {{score: score}}
  - task: Send offer
    tool: {ident}_send_offer
    inputs: {{applicant: applicant, amount: amount}}
    outputs: {{offer: reference}}
"""

_RULE = """\
      <rule id="{id}">
        <inputEntry><text>{side_effect}</text></inputEntry>
        <inputEntry><text>{amount}</text></inputEntry>
        <outputEntry><text>{verdict}</text></outputEntry>
        <outputEntry><text>{role}</text></outputEntry>
        <outputEntry><text>{reason}</text></outputEntry>
      </rule>
"""

_GUARDRAILS = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- The guardrail of {title}, asked before every tool call (hit policy FIRST: the first rule
     that matches decides). Tools that only read run; an offer over 50,000 waits for the credit
     committee; anything else is allowed. -->
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
             id="{ident}_guardrails" name="{title} guardrails" namespace="https://example.com/cases/{slug}/guardrails">
  <decision id="offer_limits" name="Offer limits">
    <variable name="Offer limits"/>
    <informationRequirement id="ir_side_effect"><requiredInput href="#side_effect"/></informationRequirement>
    <informationRequirement id="ir_amount"><requiredInput href="#amount"/></informationRequirement>
    <decisionTable id="dt_offer_limits" hitPolicy="FIRST">
      <input id="in_side_effect" label="Side effect of the tool">
        <inputExpression id="ie_side_effect" typeRef="string"><text>side_effect</text></inputExpression>
      </input>
      <input id="in_amount" label="Amount applied for">
        <inputExpression id="ie_amount" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out_verdict" name="verdict" typeRef="string">
        <outputValues><text>"allow","require_human","block"</text></outputValues>
      </output>
      <output id="out_role" name="role" typeRef="string"/>
      <output id="out_reason" name="reason" typeRef="string"/>
{rules}    </decisionTable>
  </decision>
  <inputData id="side_effect" name="side_effect"><variable name="side_effect" typeRef="string"/></inputData>
  <inputData id="amount" name="amount"><variable name="amount" typeRef="number"/></inputData>
</definitions>
"""

_TOOLS = '''\
"""The tools of {title}: plain Python functions with typed arguments and results.

``casepilot.yaml`` names ``registry`` under ``tools:``; bindings.yaml says which task runs which
tool. Replace the bodies with calls to your own systems; keep the types (the orchestrator
validates every argument and result against them).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from pydantic import BaseModel, Field

from casepilot.tools import ToolRegistry, tool


class ScoreArgs(BaseModel):
    income: Decimal = Field(description="the applicant's yearly income")
    amount: Decimal = Field(description="the amount applied for")


class ScoreResult(BaseModel):
    score: int = Field(ge=300, le=850, description="300 (poor) to 850 (excellent)")


@tool(name="{ident}_score")
def score_application(args: ScoreArgs) -> ScoreResult:
    """Score an application from 300 to 850: the smaller the amount against the income, the higher."""
    if args.income <= 0:
        return ScoreResult(score=300)
    ratio = args.amount / args.income
    return ScoreResult(score=int(max(Decimal(300), min(Decimal(850), 850 - ratio * 400))))


class OfferArgs(BaseModel):
    applicant: str = Field(description="who the offer goes to")
    amount: Decimal = Field(description="the amount offered")


class OfferResult(BaseModel):
    reference: str = Field(description="the offer's reference")


@tool(name="{ident}_send_offer", side_effect="idempotent", tags=("sends_externally",), targets=("applicant",))
def send_offer(args: OfferArgs) -> OfferResult:
    """Send the applicant an offer for the amount; the same offer twice gives the same reference."""
    digest = hashlib.sha256(f"{{args.applicant}}|{{args.amount}}".encode()).hexdigest()
    return OfferResult(reference=f"OFFER-{{digest[:10].upper()}}")


registry = ToolRegistry([score_application, send_offer])
'''

_SCENARIOS = {
    "offered-at-once.yaml": """\
model: ../{slug}.cmmn
about: A good score sends the offer at once; the milestone is reached and the case completes.
steps:
  - start: {{variables: {{applicant: Ada Lovelace, income: 60000, amount: 10000}}}}
  - set: {{score: 750}}
  - complete: Score application
  - expect: {{case: active, active: [Decision, Send offer]}}
  - complete: Send offer
  - expect: {{case: completed, milestones: [Offer sent]}}
""",
    "underwriter-approves.yaml": """\
model: ../{slug}.cmmn
about: A low score goes to an underwriter; an approval sends the offer.
steps:
  - start: {{variables: {{applicant: Alan Turing, income: 20000, amount: 30000}}}}
  - set: {{score: 520}}
  - complete: Score application
  - expect: {{case: active, active: [Decision, Underwriter review]}}
  - set: {{review: {{decision: approve}}}}
  - complete: Underwriter review
  - expect: {{active: [Decision, Send offer]}}
  - complete: Send offer
  - expect: {{case: completed, milestones: [Offer sent]}}
""",
    "underwriter-declines.yaml": """\
model: ../{slug}.cmmn
about: A declined application completes the case without an offer.
steps:
  - start: {{variables: {{applicant: Grace Hopper, income: 20000, amount: 30000}}}}
  - set: {{score: 480}}
  - complete: Score application
  - set: {{review: {{decision: decline}}}}
  - complete: Underwriter review
  - expect: {{case: completed, milestones: []}}
""",
}

_README = """\
# {title}

Made by `casepilot init {slug}`. Try it:

    casepilot validate {slug}
    casepilot cmmn test {slug}/scenarios
    casepilot deploy {slug}
    casepilot start {slug} --vars '{{"applicant": "Ada Lovelace", "income": 60000, "amount": 10000}}'
    casepilot run CASE_ID              # scores, then sends the offer: completed
    casepilot start {slug} --vars '{{"applicant": "Alan Turing", "income": 20000, "amount": 30000}}'
    casepilot run CASE_ID              # a low score: waits for an underwriter
    casepilot inbox --role underwriter
    casepilot decide TASK_ID --choice approve --as ann --role underwriter
    casepilot run CASE_ID              # the offer goes out: completed
    casepilot history CASE_ID

Files: casepilot.yaml (the manifest), {slug}.cmmn (the case), bindings.yaml (task → tool),
{ident}_tools.py (the tools), guardrails.dmn (the guardrail), scenarios/ (CMMN scenario tests).
This README is not part of the deployed bundle.
"""


def _rules() -> str:
    rules = [
        ("reading_only", '"read_only"', "-", '"allow"', "null", '"the tool only reads"'),
        ("large_offer", "-", "&gt; 50000", '"require_human"', '"credit committee"',
         '"offers over 50,000 need the credit committee"'),
        ("otherwise_allow", "-", "-", '"allow"', "null", "null"),
    ]
    return "".join(
        _RULE.format(id=i, side_effect=s, amount=a, verdict=v, role=r, reason=why) for i, s, a, v, r, why in rules)


def scaffold(name: str, parent: Path | str = ".", *, force: bool = False) -> Path:
    """Write the bundle ``name`` into ``parent/name`` and return its folder.

    ``CasepilotError`` when the name is not usable or the folder exists and is not empty
    (``force`` writes into it anyway, replacing the scaffold's own files).
    """
    if not _NAME.match(name):
        raise CasepilotError(
            f"{name!r} cannot name a case bundle: use letters, digits, '-' and '_', starting with a letter")
    slug = name.lower().replace("_", "-")
    ident = re.sub(r"[^a-z0-9]+", "_", slug).strip("_")
    title = " ".join(part.capitalize() for part in re.split(r"[-_]+", slug))
    folder = Path(parent) / name
    if folder.exists() and any(folder.iterdir()) and not force:
        raise CasepilotError(f"{folder} exists and is not empty: choose another name, or pass --force to write into it")
    values = {"slug": slug, "ident": ident, "title": title}
    files = {
        "casepilot.yaml": _MANIFEST.format(**values),
        f"{slug}.cmmn": _MODEL.format(**values),
        "bindings.yaml": _BINDINGS.format(**values),
        "guardrails.dmn": _GUARDRAILS.format(rules=_rules(), **values),
        f"{ident}_tools.py": _TOOLS.format(**values),
        "README.md": _README.format(**values),
        **{f"scenarios/{file}": text.format(**values) for file, text in _SCENARIOS.items()},
    }
    for relative, text in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder
