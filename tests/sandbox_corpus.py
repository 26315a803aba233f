"""Known Python sandbox escapes, and a minimal diagram to put each one in.

Expressions go into a gateway condition and into a script (``alasan = <expression>``, the
variable the public tracking page shows); statements go into the script.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

# (name, code): each evaluates to something that would leak if the sandbox let it through.
ESCAPE_EXPRESSIONS = [
    ("issue_format_concat", '("{0." + "_"*2 + "globals" + "_"*2 + "}").format(add_working_days)'),
    ("issue_format_concat_index", '("{0." + "_"*2 + "globals" + "_"*2 + "[os]}").format(add_working_days)'),
    ("issue_power_tower", "9**9**9"),
    ("issue_list_repetition", "[0]*10**9"),
    ("string_repetition", "'x' * 10**10"),
    ("left_shift", "1 << 10**9"),
    ("format_literal_dunder", '"{0.__globals__}".format(add_working_days)'),
    ("format_map", '"{f.__globals__}".format_map({"f": add_working_days})'),
    ("format_on_variable", "template.format(add_working_days)"),
    ("str_format_unbound", 'str.format("{0}", add_working_days)'),
    ("string_formatter", 'string.Formatter().format("{0}", add_working_days)'),
    ("formatter_vformat", 'fmt.vformat("{0}", [add_working_days], {})'),
    ("format_builtin", 'format(add_working_days, "")'),
    ("subclasses_walk", "().__class__.__bases__[0].__subclasses__()"),
    ("mro_walk", "[].__class__.__mro__[-1].__subclasses__()"),
    ("mro_method", "ValueError.mro()[-1]"),
    ("function_globals", "add_working_days.__globals__"),
    ("function_code", "add_working_days.__code__.co_consts"),
    ("method_self", "date.today.__self__"),
    ("generator_frame", "(x for x in [1]).gi_frame.f_back.f_globals"),
    ("generator_code", "(x for x in [1]).gi_code"),
    ("getattr_string", 'getattr(add_working_days, "_" + "_globals__")'),
    ("getattr_fullwidth", 'ｇｅｔａｔｔｒ(add_working_days, "x")'),
    ("vars_builtin", "vars(add_working_days)"),
    ("dir_builtin", "dir(add_working_days)"),
    ("type_three_args", 'type("X", (object,), {})'),
    ("type_of_value", "type(add_working_days)"),
    ("globals_builtin", "globals()"),
    ("locals_builtin", "locals()"),
    ("builtins_name", "__builtins__"),
    ("import_builtin", '__import__("os").environ'),
    ("fullwidth_import", '＿＿import＿＿("os")'),
    ("eval_call", 'eval("1")'),
    ("fullwidth_eval", 'ｅｖａｌ("1")'),
    ("compile_call", 'compile("1", "x", "eval")'),
    ("open_file", 'open("/proc/self/environ").read()'),
    ("lambda_default", "(lambda f=add_working_days: f.__globals__)()"),
    ("fstring_attribute", 'f"{add_working_days.__globals__}"'),
    ("fstring_dynamic_width", 'f"{1:>{10**9}}"'),
    ("fstring_width", 'f"{1:>999999999}"'),
    ("percent_width", '"%999999999d" % 1'),
    ("dunder_text", '"__globals__"'),
    ("frame_attribute", "frame.f_globals"),
    ("traceback_attribute", "error.tb_frame"),
    ("walrus_dunder", "(_x := 1)"),
    ("juel_condition", "${decision == 'lengkap'}"),
    ("long_condition", " or ".join(["decision == 'x'"] * 5000)),
    ("deep_expression", "[" * 80 + "1" + "]" * 80),
]
ESCAPE_SCRIPTS = [
    ("import_os", "import os\nalasan = os.environ"),
    ("from_import", "from os import environ as alasan"),
    ("fullwidth_exec", 'ｅｘｅｃ("import os")'),
    ("class_definition", "class X:\n    pass\nalasan = X"),
    ("metaclass", "class X(metaclass=type):\n    pass"),
    ("global_statement", "def f():\n    global alasan\n    alasan = 1\nf()"),
    ("generator_function", "def g():\n    yield 1\nalasan = g().gi_frame"),
    ("decorator_vars", "@vars\ndef f():\n    pass\nalasan = f"),
    ("decorator_getattr", "@getattr\ndef f():\n    pass"),
    (
        "traceback_frames",
        "try:\n    1 / 0\nexcept Exception as e:\n    alasan = e.__traceback__.tb_frame.f_back.f_globals",
    ),
    ("with_traceback", "try:\n    1 / 0\nexcept Exception as e:\n    alasan = e.with_traceback(None)"),
    ("underscore_assignment", "_getattr_ = None\nalasan = add_working_days.x"),
    ("builtins_assignment", "__builtins__ = {}"),
    ("with_statement", "with open('/etc/passwd') as f:\n    alasan = f.read()"),
    ("async_function", "async def f():\n    pass"),
    ("nonlocal", "def f():\n    x = 1\n    def g():\n        nonlocal x\n    g()\nf()"),
    ("exception_group", "try:\n    pass\nexcept* ValueError:\n    pass"),
    ("function_name_dunder", "def __init__():\n    pass"),
    ("argument_dunder", "def f(__x):\n    return __x"),
    ("power_in_script", "x = 9\nalasan = 9**9**x if False else 9**9**9"),
    ("repetition_in_script", "alasan = [0] * 10**9"),
    ("deep_nesting", "alasan = " + "-" * 80 + "1"),
    ("long_condition_terms", "alasan = " + " + ".join(["1"] * 5000)),
    ("juel_expression", "${alasan}"),
]

SPIFFARENA_SCRIPTS = [
    "x = 1\ndel x",
    "try:\n    nilai = data['tidak_ada']\nexcept KeyError:\n    nilai = 0",
    "total = 0\nfor _ in range(3):\n    total += 1",
    "kuadrat = [i * i for i in range(5)]\nganjil = {i for i in range(5) if i % 2}\npeta = {k: v for k, v in [('a', 1)]}",
    "def tambah(a, b=1):\n    return a + b\nhasil = tambah(2)",
    "pesan = 'Halo {}, kasus {}'.format('Budi', 7)\nteks = f'{3:>4}|{2.5:.1f}'",
    "batas = add_working_days(5)\nhari_ini = (date(2026, 11, 2) + timedelta(days=3)).isoformat()",
    "daftar = sorted({'b': 2, 'a': 1}.items())\nterbesar = max(len(s) for s in ['aa', 'b'])",
    "nama = 'budi santoso'.title().replace(' ', '_')\nbagian = 'a,b,c'.split(',')\ngabung = '-'.join(bagian)",
    "x = None\nif x is None:\n    x = 'kosong'\nelse:\n    pass\nwhile False:\n    break",
    "a, b = 1, 2\nfor i, (k, v) in enumerate([('x', 1)]):\n    pass\nitems = list(zip([1], [2]))",
    "print('debug')\nnilai = abs(-3) + round(2.5) + sum([1, 2]) + pow(2, 10)",
    "try:\n    raise ValueError('salah')\nexcept ValueError as e:\n    pesan = str(e)\nfinally:\n    selesai = True",
    "data_baru = dict(data)\ndata_baru['k'] = 1\ndaftar = [1, 2]\ndaftar.append(3)\ndaftar[0] = 9\ndel daftar[1]",
    "urut = sorted([3, 1, 2], key=lambda v: -v)\nsaring = list(filter(lambda v: v > 1, urut))",
]

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_uji" targetNamespace="http://layarsibalang.balangankab.go.id/bpmn">
  <bpmn:process id="{process}" name="Uji sandbox" isExecutable="true">
    <bpmn:startEvent id="mulai"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="skrip_uji" name="Skrip uji" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gerbang" default="f_lain">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_ya</bpmn:outgoing><bpmn:outgoing>f_lain</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="mulai" targetRef="skrip_uji"/>
    <bpmn:sequenceFlow id="f2" sourceRef="skrip_uji" targetRef="gerbang"/>
    <bpmn:sequenceFlow id="f_ya" sourceRef="gerbang" targetRef="selesai">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_lain" sourceRef="gerbang" targetRef="selesai"/>
    <bpmn:endEvent id="selesai"><bpmn:incoming>f_ya</bpmn:incoming><bpmn:incoming>f_lain</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def diagram(script: str = "x = 1", condition: str = "True", process: str = "uji_sandbox") -> bytes:
    """A start → script → gateway (condition | default) → end process holding the given code."""
    return TEMPLATE.format(script=escape(script), condition=escape(condition), process=process).encode("utf-8")
