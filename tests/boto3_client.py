"""boto3 against turnflow's Step Functions API: a client nobody here wrote.

Usage: python boto3_client.py ENDPOINT_URL

Creates an activity and a state machine, starts an execution, polls the activity as a worker
(with a heartbeat) and answers it, lists executions, reads the history, and checks idempotent
starts and an error code. botocore parses every response with its own service model. Prints
one JSON summary line; exits non-zero with the reason on any mismatch.
"""

import json
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        sys.exit(f"boto3 check failed: {what}")


def code_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def main(endpoint):
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(read_timeout=70, retries={"max_attempts": 1}),
    )
    activity = sfn.create_activity(name="boto3-triage")["activityArn"]
    definition = {
        "StartAt": "Triage",
        "States": {
            "Triage": {
                "Type": "Task",
                "Resource": activity,
                "TimeoutSeconds": 120,
                "HeartbeatSeconds": 60,
                "ResultPath": "$.triage",
                "End": True,
            }
        },
    }
    created = sfn.create_state_machine(
        name="boto3-turn",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/turnflow",
    )
    machine = created["stateMachineArn"]
    check(hasattr(created["creationDate"], "year"), "creationDate parses as a datetime")

    started = sfn.start_execution(
        stateMachineArn=machine, name="message-1", input=json.dumps({"text": "where is my order?"})
    )
    execution = started["executionArn"]
    again = sfn.start_execution(
        stateMachineArn=machine, name="message-1", input=json.dumps({"text": "where is my order?"})
    )
    check(again["executionArn"] == execution, "the same name and input start the same execution")
    code, status = code_of(
        lambda: sfn.start_execution(stateMachineArn=machine, name="message-1", input="{}")
    )
    check((code, status) == ("ExecutionAlreadyExists", 400), f"another input: {code} {status}")

    task = sfn.get_activity_task(activityArn=activity, workerName="boto3-worker")
    token = task.get("taskToken")
    check(token, "the worker got a task")
    check(json.loads(task["input"])["text"] == "where is my order?", "the task's input")
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output=json.dumps({"intent": "order_status"}))

    deadline = time.time() + 20
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING" or time.time() > deadline:
            break
        time.sleep(0.05)
    check(described["status"] == "SUCCEEDED", f"status {described['status']}")
    check(json.loads(described["output"])["triage"]["intent"] == "order_status", "the output")
    check(hasattr(described["stopDate"], "year"), "stopDate parses as a datetime")

    listed = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")
    check([e["name"] for e in listed["executions"]] == ["message-1"], "list_executions")

    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, PaginationConfig={"PageSize": 2}
    ):
        events.extend(page["events"])
    types = [e["type"] for e in events]
    check(types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", f"history {types}")
    check("ActivityStarted" in types, f"history {types}")
    started_by = [
        e["activityStartedEventDetails"].get("workerName")
        for e in events
        if e["type"] == "ActivityStarted"
    ]
    check(started_by == ["boto3-worker"], f"workerName {started_by}")
    check(all(hasattr(e["timestamp"], "year") for e in events), "timestamps parse")
    ids = [e["id"] for e in events]
    check(ids == sorted(ids) and len(set(ids)) == len(ids), "event ids ascend")

    code, status = code_of(
        lambda: sfn.describe_execution(executionArn=execution.replace("message-1", "ghost"))
    )
    check((code, status) == ("ExecutionDoesNotExist", 400), f"missing execution: {code} {status}")
    code, _ = code_of(lambda: sfn.send_task_success(taskToken="bogus", output="{}"))
    check(code == "InvalidToken", f"bogus token: {code}")

    print(json.dumps({"ok": True, "events": types, "execution": execution}))


if __name__ == "__main__":
    main(sys.argv[1])
