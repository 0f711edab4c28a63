"""The AGI wire code, tested as tables of real protocol lines (no sockets)."""

from __future__ import annotations

import pytest
from panoramisk.utils import parse_agi_result

from ivr.agi.protocol import (
    MAX_ENV_LINES,
    AgiArgumentError,
    AgiProtocolError,
    AgiResponse,
    EnvironmentParser,
    ResponseParser,
    Status,
    digits_result,
    format_command,
    key_from_result,
    split_script,
)
from ivr.agi.simulator import split_args


def feed_all(lines: list[str]) -> tuple[AgiResponse | None, ResponseParser]:
    """Feed lines until a response completes."""
    parser = ResponseParser()
    for line in lines:
        response = parser.feed(line)
        if response is not None:
            return response, parser
    return None, parser


@pytest.mark.parametrize(
    ("lines", "status", "result", "data", "extra"),
    [
        (["200 result=0"], Status.OK, "0", "", {}),
        (["200 result=1234"], Status.OK, "1234", "", {}),
        (["200 result=-1"], Status.OK, "-1", "", {}),
        (["200 result= (timeout)"], Status.OK, "", "timeout", {}),
        (["200 result=12 (timeout)"], Status.OK, "12", "timeout", {}),
        (["200 result=0 endpos=16000"], Status.OK, "0", "", {"endpos": "16000"}),
        (["200 result=35 (dtmf) endpos=24000"], Status.OK, "35", "dtmf", {"endpos": "24000"}),
        (["200 result=-1 (hangup) endpos=0"], Status.OK, "-1", "hangup", {"endpos": "0"}),
        (["200 result=1 (some value (x))"], Status.OK, "1", "some value (x)", {}),
        (["100 result=0 Trying...", "200 result=0"], Status.OK, "0", "", {}),
        (["510 Invalid or unknown command"], Status.INVALID, "", "", {}),
        (
            ["511 Command Not Permitted on a dead channel or intercept routine"],
            Status.DEAD, "", "", {},
        ),
        (
            [
                "520-Invalid command syntax.  Proper usage follows:",
                " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
                "520 End of proper usage.",
            ],
            Status.USAGE, "", "", {},
        ),
        (["520 Invalid command syntax."], Status.USAGE, "", "", {}),
    ],
)  # fmt: skip
def test_response_lines_parse(
    lines: list[str], status: Status, result: str, data: str, extra: dict[str, str]
) -> None:
    """Each answer Asterisk sends parses to the status, result, data and extra fields."""
    response, _ = feed_all(lines)
    assert response is not None
    assert (response.status, response.result, response.data, response.extra) == (
        status,
        result,
        data,
        extra,
    )


def test_usage_text_kept() -> None:
    """A multi-line 520 keeps its usage text for the log."""
    response, _ = feed_all(["520-Invalid command syntax.", " Usage: X", "520 End of proper usage."])
    assert response is not None
    assert "Usage: X" in response.text


def test_bare_hangup_line_marks_hang_up_and_waits_for_answer() -> None:
    """A bare HANGUP before the answer is noted, and the real answer is still returned."""
    response, parser = feed_all(["HANGUP", "511 Command Not Permitted on a dead channel"])
    assert parser.hung_up
    assert response is not None
    assert response.status is Status.DEAD


def test_hangup_alone_is_not_an_answer() -> None:
    """The bare HANGUP line alone completes no command."""
    response, parser = feed_all(["HANGUP"])
    assert response is None
    assert parser.hung_up


@pytest.mark.parametrize("line", ["garbage", "300 result=1", "200 nonsense", "", "520-"])
def test_garbage_reply_is_protocol_error(line: str) -> None:
    """Anything that is not an AGI answer raises AgiProtocolError."""
    with pytest.raises(AgiProtocolError):
        ResponseParser().feed(line)


def test_endless_usage_text_is_bounded() -> None:
    """A 520 block that never ends is cut off instead of growing forever."""
    parser = ResponseParser()
    parser.feed("520-Invalid command syntax.")
    with pytest.raises(AgiProtocolError):
        for _ in range(1000):
            parser.feed(" usage")


@pytest.mark.parametrize(
    ("line", "agrees"),
    [
        ("200 result=0", True),
        ("200 result=1234", True),
        ("200 result=0 endpos=16000", True),
        # panoramisk 1.4 loses the (timeout) flag of an empty GET DATA: our parser keeps it.
        ("200 result= (timeout)", False),
    ],
)
def test_results_agree_with_panoramisk(line: str, agrees: bool) -> None:
    """Where panoramisk's parser reads a result right, ours reads the same."""
    ours, _ = feed_all([line])
    assert ours is not None
    theirs = parse_agi_result(line)
    theirs_result = theirs.get("result", ("", ""))
    assert (theirs_result == (ours.result, ours.data)) is agrees


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("ivr/welcome", ""), 'STREAM FILE "ivr/welcome" ""\n'),
        (("a b",), 'STREAM FILE "a b"\n'),
        (('say "hi"',), 'STREAM FILE "say \\"hi\\""\n'),
        (("back\\slash",), 'STREAM FILE "back\\\\slash"\n'),
        (("${EVAL(x)};h",), 'STREAM FILE "${EVAL(x)};h"\n'),
    ],
)
def test_arguments_quoted(args: tuple[str, ...], expected: str) -> None:
    """Arguments are double-quoted with quotes and backslashes escaped."""
    assert format_command("STREAM FILE", *args).decode() == expected


@pytest.mark.parametrize("arg", ["a\nHANGUP", "a\rb", "x\x00", "\n", "ok\r\nEXEC Dial PJSIP/9999"])
def test_line_breaks_rejected(arg: str) -> None:
    """An argument that would end the command line is refused, never sent."""
    with pytest.raises(AgiArgumentError):
        format_command("SET VARIABLE", "IVR_X", arg)


@pytest.mark.parametrize(
    "value", ["plain", 'with "quotes"', "back\\slash\\", 'mix \\" both', "${CALLERID(num)}", ""]
)
def test_quoting_round_trips_through_asterisk_parser(value: str) -> None:
    """Asterisk's own argument splitting gives back exactly the value we sent."""
    line = format_command("SET VARIABLE", "IVR_X", value).decode().rstrip("\n")
    assert split_args(line) == ["SET", "VARIABLE", "IVR_X", value]


def test_bad_verbs_refused() -> None:
    """Verbs are constants of ours: anything else is refused."""
    with pytest.raises(AgiArgumentError):
        format_command("ANSWER\nHANGUP")


@pytest.mark.parametrize(
    ("script", "route", "query"),
    [
        ("support-line", "support-line", {}),
        ("support-line?lang=en", "support-line", {"lang": "en"}),
        ("test?foo=bar", "test", {"foo": "bar"}),
        ("/support-line/?a=1&a=2&b=", "support-line", {"a": "1", "b": ""}),
        ("Support-Line", "support-line", {}),
    ],
)
def test_script_split(script: str, route: str, query: dict[str, str]) -> None:
    """agi_network_script gives the route (path) and the query string."""
    assert split_script(script) == (route, query)


@pytest.mark.parametrize("script", ["", "?x=1", "..", "a b", "x" * 100, "ivr/.."])
def test_bad_script_refused(script: str) -> None:
    """A script name that is no route is a protocol error."""
    with pytest.raises(AgiProtocolError):
        split_script(script)


def test_environment_parsed() -> None:
    """The environment block ends at the blank line and names the route."""
    parser = EnvironmentParser()
    assert parser.feed("agi_network: yes") is None
    assert parser.feed("agi_network_script: support-line?lang=en") is None
    assert parser.feed("agi_uniqueid: 1795570859.5") is None
    assert parser.feed("agi_callerid: unknown") is None
    env = parser.feed("")
    assert env is not None
    assert (env.route, env.query, env.unique_id, env.caller_id) == (
        "support-line",
        {"lang": "en"},
        "1795570859.5",
        "",
    )


@pytest.mark.parametrize(
    "lines",
    [
        ["agi_network: yes", "agi_network: no"],
        ["not an agi line"],
        ["AGI_NETWORK: yes"],
        ["agi_network yes"],
        ["agi_network: yes", ""],  # no script
    ],
)
def test_bad_environment_refused(lines: list[str]) -> None:
    """Duplicated keys, non-AGI lines and a missing script are refused."""
    parser = EnvironmentParser()
    with pytest.raises(AgiProtocolError):
        for line in lines:
            parser.feed(line)


def test_oversize_environment_refused() -> None:
    """An environment block past the line limit is refused."""
    parser = EnvironmentParser()
    with pytest.raises(AgiProtocolError):
        for i in range(MAX_ENV_LINES + 1):
            parser.feed(f"agi_arg_{i}: x")


def test_unique_id_made_safe() -> None:
    """A hostile unique id cannot carry path or log-line tricks."""
    parser = EnvironmentParser()
    parser.feed("agi_network_script: support-line")
    parser.feed("agi_uniqueid: ../../x y\x1b[31m")
    env = parser.feed("")
    assert env is not None
    assert env.unique_id == ".._.._x_y__31m"


@pytest.mark.parametrize(
    ("result", "digits", "key"),
    [("1234", "1234", "\x04"), ("*", "*", ""), ("-1", "", ""), ("35", "35", "#"), ("0", "0", "")],
)
def test_result_helpers(result: str, digits: str, key: str) -> None:
    """GET DATA results give digits; stream results give the ASCII key pressed."""
    response = AgiResponse(Status.OK, result=result)
    assert digits_result(response) == digits
    assert key_from_result(response) == (key if key.isprintable() else "")
