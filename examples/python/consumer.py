"""An example consumer of kf-bridge's inbound.fifo, in Python with boto3.

It reads customer messages (contract kf-bridge.inbound/v1) with long polling, answers each customer's text
through the messages API (POST /v1/messages), and deletes a message only once its reply is accepted. A reply
that fails leaves its message on the queue to come back, with the same customer's later messages behind it,
so each customer is answered in order; the request id is derived from the message, so a message that comes
back after its reply did get through is not answered twice. A real consumer would call a helpdesk or a bot
where this one acknowledges.

Settings (environment):
  KF_BRIDGE_INBOUND_QUEUE_URL  inbound.fifo's URL (stack output InboundQueueUrl)
  KF_BRIDGE_API_URL            the HTTP API (stack output ApiUrl; locally http://127.0.0.1:3000)
  KF_BRIDGE_API_KEY            the messages API's key (OUTBOUND_API_KEY)
  KF_BRIDGE_RETRY_SECONDS      how soon a message whose reply failed first comes back (default 10; doubled at
                               each later receive)
  AWS_REGION                   the stack's region (else boto3's own AWS_DEFAULT_REGION or profile)
  AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3
                               boto3's own endpoint overrides, for the local stack (npm start)
"""

import hashlib
import json
import logging
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

INBOUND_SCHEMA = "kf-bridge.inbound/v1"
# The outbound contract's request id: 1-128 of [A-Za-z0-9_.:-].
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
# Long polling: SQS waits up to 20 s for a message before answering empty.
WAIT_SECONDS = 20
# A batch stops short of the queue's visibility timeout by this much, so no message comes back while in hand.
VISIBILITY_MARGIN_SECONDS = 15
HTTP_TIMEOUT_SECONDS = 10
RECEIVE_RETRY_SECONDS = 5
# SQS's ceiling on a visibility timeout (12 hours).
MAX_VISIBILITY_SECONDS = 43200
# The quote stays far inside the 2,048 bytes a text may carry: a character is at most 4 bytes.
QUOTE_CHARACTERS = 100

log = logging.getLogger("kf-bridge-consumer")


class ReplyFailed(Exception):
    """The reply was not accepted; its message stays on the queue to come back."""


def setting(name, default=None):
    value = os.environ.get(name, default)
    if not value:
        sys.exit(f"kf-bridge consumer: {name} is not set")
    return value


def load_settings():
    retry = setting("KF_BRIDGE_RETRY_SECONDS", "10")
    if not retry.isdigit() or not 0 <= int(retry) <= 43200:
        sys.exit("kf-bridge consumer: KF_BRIDGE_RETRY_SECONDS must be a whole number of seconds up to 43200")
    return {
        "queue_url": setting("KF_BRIDGE_INBOUND_QUEUE_URL"),
        "api_url": setting("KF_BRIDGE_API_URL").rstrip("/"),
        "api_key": setting("KF_BRIDGE_API_KEY"),
        "retry_seconds": int(retry),
    }


def answer_to(text):
    quote = text[:QUOTE_CHARACTERS] + ("…" if len(text) > QUOTE_CHARACTERS else "")
    return f"您好，我们已收到您的消息：「{quote}」，客服会尽快回复您。"


def request_id_for(inbound):
    """The same message always gets the same request id: the messages API sends one request id at most once."""
    candidate = f"py-{inbound['id']}"
    if REQUEST_ID.match(candidate):
        return candidate
    return "py-" + hashlib.sha256(f"{inbound['app']}#{inbound['id']}".encode()).hexdigest()


def recipient_of(inbound):
    if inbound["channel"] == "kf":
        return {"openKfId": inbound["account"], "externalUserId": inbound["customer"]}
    return {"openid": inbound["customer"]}


class Consumer:
    def __init__(self, settings):
        self.settings = settings
        # boto3 reads AWS_DEFAULT_REGION only; AWS_REGION is what Lambda, ECS and the AWS CLI v2 set.
        session = boto3.session.Session(region_name=os.environ.get("AWS_REGION"))
        self.sqs = session.client("sqs")
        # A local endpoint (npm start's fauxqs) takes the bucket in the path, not in the host name.
        local = os.environ.get("AWS_ENDPOINT_URL_S3")
        self.s3 = session.client("s3", config=Config(s3={"addressing_style": "path"}) if local else None)
        self.stopping = False
        self.batch_seconds = 0

    def check_queue(self):
        """A FIFO queue, as inbound.fifo is; its visibility timeout bounds how long a batch may take."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.settings["queue_url"], AttributeNames=["FifoQueue", "VisibilityTimeout"]
        )["Attributes"]
        if attributes.get("FifoQueue") != "true":
            sys.exit("kf-bridge consumer: KF_BRIDGE_INBOUND_QUEUE_URL is not a FIFO queue (inbound.fifo is)")
        self.batch_seconds = max(int(attributes["VisibilityTimeout"]) - VISIBILITY_MARGIN_SECONDS, 1)

    def stop(self, signum, _frame):
        """Ends after the message in hand, or once the long poll in progress answers (at most 20 s)."""
        log.info("stopping (signal %s)", signum)
        self.stopping = True

    def run(self):
        self.check_queue()
        log.info("reading %s", self.settings["queue_url"])
        while not self.stopping:
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.settings["queue_url"],
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=WAIT_SECONDS,
                    MessageSystemAttributeNames=["MessageGroupId", "ApproximateReceiveCount"],
                ).get("Messages", [])
            except (ClientError, BotoCoreError) as error:
                log.warning("could not read the queue, trying again in %d s: %s", RECEIVE_RETRY_SECONDS, error)
                time.sleep(RECEIVE_RETRY_SECONDS)
                continue
            self.handle_batch(messages, time.monotonic() + self.batch_seconds)

    def handle_batch(self, messages, deadline):
        """In the order received; a group whose message failed holds back its later ones, which come back after it."""
        held = set()
        for message in messages:
            group = message["Attributes"]["MessageGroupId"]
            if group in held or self.stopping or time.monotonic() > deadline:
                held.add(group)
                self.release(message)
                continue
            try:
                self.handle(message)
            except ReplyFailed as failure:
                log.warning("message %s comes back in %d s: %s", message["MessageId"], self.delay(message), failure)
                held.add(group)
                self.release(message)
                continue
            try:
                self.sqs.delete_message(QueueUrl=self.settings["queue_url"], ReceiptHandle=message["ReceiptHandle"])
            except (ClientError, BotoCoreError) as error:
                # It comes back, and its reply's request id keeps it from being answered twice.
                log.warning("message %s answered but not deleted: %s", message["MessageId"], error)

    def delay(self, message):
        """The retry delay, doubled at each receive: inbound.fifo dead-letters a message at its fifth receive, so
        an outage of the API gets minutes (10 s base: 10 + 20 + 40 + 80 s) rather than seconds before that."""
        receives = int(message["Attributes"].get("ApproximateReceiveCount", "1"))
        return min(self.settings["retry_seconds"] * 2 ** (receives - 1), MAX_VISIBILITY_SECONDS)

    def release(self, message):
        """Makes a message visible again after the retry delay; were this to fail, the visibility timeout does it."""
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.settings["queue_url"],
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.delay(message),
            )
        except (ClientError, BotoCoreError) as error:
            log.warning("message %s comes back with the queue's visibility timeout: %s", message["MessageId"], error)

    def handle(self, message):
        """Whatever this consumer cannot read is left to come back, and at last to the dead-letter queue."""
        try:
            inbound = json.loads(message["Body"])
            if inbound.get("schema") != INBOUND_SCHEMA:
                # A new schema version is a breaking change: it waits for a consumer that knows it.
                raise ReplyFailed(f"schema {inbound.get('schema')!r} is not {INBOUND_SCHEMA}")
            if inbound["message"]["type"] == "quarantined":
                inbound = self.original_of(inbound)
            if inbound["origin"] != "customer" or inbound["message"]["type"] != "text":
                return
            text = inbound["message"]["content"]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ReplyFailed(f"not a {INBOUND_SCHEMA} message ({error!r})") from error
        self.reply(inbound, answer_to(text))

    def original_of(self, stand_in):
        """A message SQS would not take is kept whole in the media bucket; its stand-in names where."""
        content = stand_in["message"]["content"]
        try:
            body = self.s3.get_object(Bucket=content["bucket"], Key=content["key"])["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise ReplyFailed(f"could not read the quarantined original: {error}") from error
        return json.loads(body)

    def reply(self, inbound, text):
        request = {
            "requestId": request_id_for(inbound),
            "app": inbound["app"],
            "channel": inbound["channel"],
            **recipient_of(inbound),
            "message": {"type": "text", "content": text},
        }
        post = urllib.request.Request(
            f"{self.settings['api_url']}/v1/messages",
            data=json.dumps(request, ensure_ascii=False).encode(),
            headers={"content-type": "application/json", "x-api-key": self.settings["api_key"]},
            method="POST",
        )
        try:
            with urllib.request.urlopen(post, timeout=HTTP_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            answer = error.read()[:300].decode(errors="replace")
            raise ReplyFailed(f"the messages API answered {error.code}: {answer}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise ReplyFailed(f"the messages API did not answer: {error}") from error
        if status != 202:
            raise ReplyFailed(f"the messages API answered {status}, not 202")
        log.info("answered %s with request %s", inbound["id"], request["requestId"])


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    consumer = Consumer(load_settings())
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    consumer.run()
    log.info("stopped")


if __name__ == "__main__":
    main()
