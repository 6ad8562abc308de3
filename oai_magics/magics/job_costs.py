"""Money before a job of many requests (`%%chat --each`, a large `%embed`, anything with `--batch`):
its estimate in one line, the question above `%config OAIMagics.confirm_over`, and `--budget`
(whose spending `jobs.budget` keeps).

The question is asked with `input()`, before anything is sent: only "y" or "yes" goes on. `--yes`
skips it. A kernel that cannot ask (ipykernel raises StdinNotImplementedError when its front end
takes no input, as under nbclient; a plain Python without a terminal gives EOFError) refuses the job
in one line that names `--yes`.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError

__all__ = ["dollars", "confirm", "job_budget", "chat_forecast", "chat_row_cost", "embedding_job_costs"]

# The chat format's tokens around each message (its role and delimiters) and before the reply, as
# OpenAI's guide to counting tokens gives them.
PER_MESSAGE, PER_REPLY = 3, 3


def dollars(text: str) -> float:
    """An `@argument(type=dollars)` for `--budget`: a finite amount above zero ("0.50" or "$0.50")."""
    try:
        value = float(text.strip().removeprefix("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount of dollars such as 0.50, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected an amount of dollars above 0, got {text!r}")
    return value


def confirm(session: Any, forecast: Any, yes: bool) -> None:
    """Say the estimate; above `confirm_over` dollars ask to go on (UsageError: nothing is sent)."""
    from ..prices import money

    print(forecast.line())
    threshold = session.settings.confirm_over
    if yes or forecast.cost is None or forecast.cost <= threshold:
        return
    over = f"about {money(forecast.cost)}, over %config OAIMagics.confirm_over ({money(threshold)})"
    try:
        answer = input(f"{over}: send it? [y/N] ")
    except (StdinNotImplementedError, EOFError):
        raise UsageError(f"not sent: {over}, and this kernel cannot ask; add --yes to send it") from None
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("not sent: nothing was paid")


def chat_forecast(session: Any, params: dict, system: list[dict], prompts: list[str], max_tokens: int | None,
                  batch: bool) -> Any:
    """The estimate of one chat request per prompt, each with the system prompt."""
    from ..jobs.forecast import ASSUMED_REPLY_TOKENS, forecast

    reply = max_tokens or ASSUMED_REPLY_TOKENS
    basis = (f"at most {reply:,} a reply, by --max-tokens" if max_tokens else
             f"assumed {reply:,} a reply; --max-tokens bounds it")
    texts = prompts + [m["content"] for m in system] * len(prompts)
    return forecast(session.prices, params["model"], texts, requests=len(prompts), output_per_request=reply,
                    output_basis=basis, batch=batch, limits=session.rate_limits,
                    overhead_per_request=PER_MESSAGE * (1 + len(system)) + PER_REPLY)


def chat_row_cost(session: Any, model: str, system: list[dict], max_tokens: int | None) -> Any:
    """A row's estimated dollars, for `--budget`: its prompt, the system prompt, the reply's tokens."""
    from ..jobs.estimates import count_tokens
    from ..jobs.forecast import ASSUMED_REPLY_TOKENS

    fixed = sum(count_tokens([m["content"]], model).tokens for m in system) + PER_MESSAGE * (1 + len(system)) + PER_REPLY

    def cost(prompt: str) -> float:
        usage = {"prompt_tokens": fixed + count_tokens([prompt], model).tokens,
                 "completion_tokens": max_tokens or ASSUMED_REPLY_TOKENS}
        return session.prices.cost(model, usage) or 0.0

    return cost


def embedding_job_costs(session: Any, args: Any, texts: list[str], model: str) -> Any:
    """`%embed` of more than `estimate_over` `texts` to send (those its cache does not hold), with
    --batch or with --budget: what it will
    cost, asked above `confirm_over`. The Budget of --budget, None without (and with --batch, where a
    budget the estimate passes sends nothing)."""
    from ..embeddings.planning import plan_batches
    from ..jobs.forecast import forecast
    from ..prices import money

    budget = job_budget(session, model, args.budget, replies=False)
    if not texts or not (args.batch or budget is not None or len(texts) > session.settings.estimate_over):
        return None if args.batch else budget
    told = forecast(session.prices, model, texts, requests=len(plan_batches(texts, max_items=args.batch_size)),
                    batch=args.batch, limits=session.rate_limits)
    confirm(session, told, args.yes or (budget is not None and told.cost <= budget.limit))
    if args.batch and budget is not None and told.cost > budget.limit:
        raise UsageError(f"not sent: the estimate passes --budget {money(budget.limit)}, and a Batch API job "
                         "cannot stop half way")
    return None if args.batch else budget


def job_budget(session: Any, model: str, limit: float | None, replies: bool = True) -> Any:
    """The Budget of `--budget`, or None without one; a model with no price cannot keep one, nor,
    for a job whose answers are `replies` (chat, not embeddings), one with no output price."""
    if limit is None:
        return None
    price = session.prices.price(model)
    if price is None:
        raise UsageError(f"--budget: no price is known for {model}, so no spending can be counted; "
                         "add one with %config OAIMagics.prices")
    if replies and price.output is None:
        raise UsageError(f"--budget: no output price is known for {model}, so the replies' spending cannot be "
                         "counted; add one with %config OAIMagics.prices")
    from ..jobs.budget import Budget

    return Budget(limit, session.prices.cost)
