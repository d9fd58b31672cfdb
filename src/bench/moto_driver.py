"""Runs ASL definitions through moto's Step Functions interpreter, for `turnflow bench interp --moto`.

Usage: python moto_driver.py ENDPOINT CASES_FILE ROUNDS

CASES_FILE holds one JSON object per line: {"definition": {...}, "input": {...}}. The moto server
at ENDPOINT must already be listening (this script waits for it) and is switched to executing
definitions here. Each definition becomes one state machine (created before timing); each round
starts one named execution per definition and polls DescribeExecution until it is no longer
RUNNING, timing that wall clock per execution: moto runs a definition behind its HTTP API, so
the time includes the HTTP round trips. Prints one JSON object:

  {"poll_seconds": P, "cases": [{"status": "SUCCEEDED", "entered": N, "seconds": [s1, s2, ...],
                                  "error": null}, ...]}

`entered` counts the StateEntered events of the first round's execution history.
"""

import json
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/turnflow-bench"
POLL_SECONDS = 0.001
EXECUTION_LIMIT_SECONDS = 30.0


def wait_ready(endpoint):
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("moto_driver: moto server not ready after 60 s")
            time.sleep(0.1)


def switch_on(endpoint):
    body = json.dumps(
        {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ).encode()
    request = urllib.request.Request(
        endpoint + "/moto-api/config",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def run_one(sfn, arn, name, payload):
    """Starts one execution and polls it to the end; returns (status, seconds, execution ARN)."""
    began = time.perf_counter()
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=payload)
    exec_arn = execution["executionArn"]
    while True:
        status = sfn.describe_execution(executionArn=exec_arn)["status"]
        if status != "RUNNING":
            return status, time.perf_counter() - began, exec_arn
        if time.perf_counter() - began > EXECUTION_LIMIT_SECONDS:
            return "STILL_RUNNING", time.perf_counter() - began, exec_arn
        time.sleep(POLL_SECONDS)


def entered(sfn, exec_arn):
    events = sfn.get_execution_history(executionArn=exec_arn)["events"]
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def main():
    endpoint, cases_file, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wait_ready(endpoint)
    switch_on(endpoint)
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    with open(cases_file) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    results = []
    arns = []
    for i, case in enumerate(cases):
        result = {"status": None, "entered": 0, "seconds": [], "error": None}
        try:
            created = sfn.create_state_machine(
                name="bench-%d" % i, definition=json.dumps(case["definition"]), roleArn=ROLE
            )
            arns.append(created["stateMachineArn"])
        except Exception as e:  # moto refuses some definitions: that case did not run.
            arns.append(None)
            result["error"] = "create_state_machine: %s" % e
        results.append(result)
    for r in range(rounds):
        for i, case in enumerate(cases):
            result = results[i]
            if arns[i] is None or result["error"] is not None:
                continue
            try:
                status, seconds, exec_arn = run_one(
                    sfn, arns[i], "r%d-%d" % (r, i), json.dumps(case["input"])
                )
            except Exception as e:
                result["error"] = "execution: %s" % e
                continue
            if status == "STILL_RUNNING":
                result["error"] = "still RUNNING after %.0f s" % EXECUTION_LIMIT_SECONDS
                continue
            result["seconds"].append(seconds)
            if r == 0:
                result["status"] = status
                result["entered"] = entered(sfn, exec_arn)
    json.dump({"poll_seconds": POLL_SECONDS, "cases": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
