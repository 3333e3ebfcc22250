"""User tasks carry their role and form; what a person enters is checked against the form."""

from __future__ import annotations

import pytest

from casepilot.bpmn import FormField, ProcessInstance, load_processes
from casepilot.errors import DecisionRejected, DefinitionError

from ._models import process

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def _model(fields: str) -> str:
    return process(f"""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="approve"/>
<bpmn:userTask id="approve" name="Approve the payment" cp:role="finance">
  <bpmn:extensionElements>{fields}</bpmn:extensionElements>
</bpmn:userTask>
<bpmn:sequenceFlow id="f1" sourceRef="approve" targetRef="e"/><bpmn:endEvent id="e"/>""")


FIELDS = ('<cp:field name="approved" type="boolean" label="Approve?" required="true"/>'
          '<cp:field name="limit" type="number" label="Limit"/>'
          '<cp:field name="due" type="date" label="Pay by"/>')


def test_the_user_task_lists_its_role_and_form() -> None:
    instance = ProcessInstance.start(load_processes(_model(FIELDS)))
    (item,) = instance.user_tasks()
    assert (item.element_id, item.name, item.role) == ("approve", "Approve the payment", "finance")
    assert item.form == (FormField("approved", "boolean", "Approve?", True), FormField("limit", "number", "Limit"),
                         FormField("due", "date", "Pay by"))


def test_camunda_form_fields_are_read_too() -> None:
    fields = f'<camunda:formData xmlns:camunda="{CAMUNDA}"><camunda:formField id="ok" label="OK?" type="boolean"/>' \
             "</camunda:formData>"
    (item,) = ProcessInstance.start(load_processes(_model(fields))).user_tasks()
    assert item.form == (FormField("ok", "boolean", "OK?"),)


@pytest.mark.parametrize(("data", "message"), [
    ({}, "'approved' is required"),
    ({"approved": "yes"}, "'approved' must be a boolean, got 'yes'"),
    ({"approved": True, "limit": "ten"}, "'limit' must be a number"),
    ({"approved": True, "due": "next week"}, "'due' must be a date"),
])
def test_a_wrongly_filled_form_is_refused_and_changes_nothing(data: dict[str, object], message: str) -> None:
    instance = ProcessInstance.start(load_processes(_model(FIELDS)))
    item = instance.user_tasks()[0]
    with pytest.raises(DecisionRejected, match=message):
        instance.complete_user_task(item.task_id, data)
    assert instance.user_tasks() == [item]
    assert instance.failure is None


def test_a_filled_form_completes_the_task() -> None:
    instance = ProcessInstance.start(load_processes(_model(FIELDS)))
    instance.complete_user_task(instance.user_tasks()[0].task_id, {"approved": True, "limit": 10, "due": "2026-02-01"})
    assert instance.completed and instance.data["approved"] is True


def test_a_field_of_an_unknown_type_is_a_deploy_error() -> None:
    with pytest.raises(DefinitionError, match="form field 'x' needs a name and a type among"):
        load_processes(_model('<cp:field name="x" type="python"/>'))
