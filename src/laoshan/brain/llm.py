"""One call to an OpenAI-compatible chat endpoint that must answer with JSON.

Every brain component with an LLM backend (the task planner, the dialogue's intent recogniser)
sends its request through here and validates what comes back itself: nothing an LLM says is
trusted without a check.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any


class LlmError(ValueError):
    """The endpoint could not be reached, or its answer was not the JSON asked for."""


def chat_json(url: str, system: str, user: str, model: str = "default", timeout_s: float = 10.0) -> Any:
    """POST one system + user message to ``url`` (ends in /chat/completions) and parse the reply's
    content as JSON (a ```json fence around it is allowed)."""
    body = json.dumps({"model": model, "messages": [{"role": "system", "content": system},
                                                    {"role": "user", "content": user}]}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            reply = json.loads(response.read())
        content = reply["choices"][0]["message"]["content"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError(f"LLM backend at {url} gave no usable answer: {exc}") from None
    content = re.sub(r"^```(?:json)?|```$", "", str(content).strip()).strip()
    try:
        return json.loads(content)
    except ValueError:
        raise LlmError(f"LLM answer is not JSON: {content[:80]!r}") from None
