#!/usr/bin/env python3
"""Generates Eddy's Kafka message codecs from the schema files in core/kafka/schemas/.

The schema format is described in core/kafka/PROTOCOL.md ("Schema format"). For every schema
file NAME.ks this writes, into --out:
  NAME.h / NAME.cc       the request and response structs with Encode/Decode/Size/Validate
  NAME_testing.h         RapidCheck generators of valid messages at a given version (testonly)
  NAME_round_trip_test.cc  one round-trip/malformed-input test per message (testonly)
and, once for all schemas:
  apis.h / apis.cc       ApiKey, the supported version table, FindApi()
  apis_testing.h / .cc   CheckRequestBody/CheckResponseBody dispatch for fuzzers (testonly)

Plain Python 3 standard library; deterministic output (no timestamps, sorted inputs).
"""

import argparse
import os
import re
import sys

VERSION_MAX = 0x7FFF

# name: (C++ type, encoded size, Reader method, Writer method)
FIXED = {
    "int8": ("int8_t", 1, "Int8", "Int8"),
    "int16": ("int16_t", 2, "Int16", "Int16"),
    "int32": ("int32_t", 4, "Int32", "Int32"),
    "int64": ("int64_t", 8, "Int64", "Int64"),
    "uint16": ("uint16_t", 2, "Uint16", "Uint16"),
    "uint32": ("uint32_t", 4, "Uint32", "Uint32"),
    "float64": ("double", 8, "Float64", "Float64"),
    "bool": ("bool", 1, "Bool", "Bool"),
    "uuid": ("Uuid", 16, "ReadUuid", "WriteUuid"),
}
VARIABLE = ("string", "bytes", "records")
CPP_KEYWORDS = {"default", "delete", "new", "class", "operator", "template", "register",
                "public", "private", "protected", "union", "switch", "case", "this"}


class SchemaError(Exception):
    pass


class Range:
    """An inclusive version range; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text, where):
        if text == "none":
            return Range(1, 0)
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
        if not m:
            raise SchemaError(f"{where}: bad version range '{text}'")
        lo = int(m.group(1))
        if m.group(2) == "+":
            return Range(lo, VERSION_MAX)
        if m.group(3) is not None:
            return Range(lo, int(m.group(3)))
        return Range(lo, lo)

    def empty(self):
        return self.lo > self.hi

    def intersect(self, other):
        return Range(max(self.lo, other.lo), min(self.hi, other.hi))

    def contains(self, version):
        return self.lo <= version <= self.hi

    def text(self):
        if self.empty():
            return "none"
        if self.hi == VERSION_MAX:
            return f"{self.lo}+"
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"

    def cond(self, outer):
        """C++ condition on `version` for this range, given that version is in `outer`."""
        r = self.intersect(outer)
        if r.empty():
            return "false"
        parts = []
        if r.lo > outer.lo:
            parts.append(f"version >= {r.lo}")
        if r.hi < outer.hi:
            parts.append(f"version <= {r.hi}")
        return " && ".join(parts) if parts else "true"


class Type:
    def __init__(self, name, array=False, struct=None):
        self.name = name  # primitive name, or struct name
        self.array = array
        self.struct = struct  # Struct for struct types

    def is_struct(self):
        return self.struct is not None


class Field:
    def __init__(self, name, type_, versions, nullable, tag, default, ignorable, key, line):
        self.name = name
        self.type = type_
        self.versions = versions
        self.nullable = nullable
        self.tag = tag
        self.default = default
        self.ignorable = ignorable
        self.key = key
        self.line = line
        snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
        snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", snake).lower()
        self.member = snake + "_value" if snake in CPP_KEYWORDS else snake

    def optional(self):
        """Represented as std::optional (nullable somewhere) — not for records."""
        return not self.nullable.empty() and self.type.name != "records"


class Struct:
    def __init__(self, name, qualified, path):
        self.name = name  # C++ name as declared
        self.qualified = qualified  # C++ qualified name
        self.path = path  # Message.Field path for errors
        self.fields = []
        self.children = []  # nested structs declared inside this one
        self.top = False


class Api:
    def __init__(self):
        self.name = None
        self.key = None
        self.versions = None
        self.flexible = None
        self.response_header_v0 = False
        self.common = {}
        self.request = None
        self.response = None
        self.file = None


# ---------------------------------------------------------------- parsing


def tokenize(path):
    lines = []
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            text = raw.split("#", 1)[0].rstrip()
            if not text.strip():
                continue
            indent = len(text) - len(text.lstrip(" "))
            if "\t" in text:
                raise SchemaError(f"{path}:{number}: tabs are not allowed")
            lines.append((indent, text.split(), f"{path}:{number}"))
    return lines


def parse_field(api, tokens, where, scope_struct, children_lines):
    if len(tokens) < 2:
        raise SchemaError(f"{where}: a field needs a name and a type")
    name, type_text = tokens[0], tokens[1]
    versions, nullable, tag, default = api.versions, Range(1, 0), None, None
    ignorable = key = False
    for option in tokens[2:]:
        if option.startswith("v"):
            versions = Range.parse(option[1:], where)
        elif option == "null":
            nullable = Range(0, VERSION_MAX)
        elif option.startswith("null:"):
            nullable = Range.parse(option[5:], where)
        elif option.startswith("tag:"):
            tag = int(option[4:])
        elif option.startswith("="):
            default = option[1:]
        elif option == "ignorable":
            ignorable = True
        elif option == "key":
            key = True
        else:
            raise SchemaError(f"{where}: unknown option '{option}'")
    array = type_text.startswith("[")
    element = type_text[1:-1] if array else type_text
    if array and not type_text.endswith("]"):
        raise SchemaError(f"{where}: bad array type '{type_text}'")
    if element in FIXED or element in VARIABLE:
        if children_lines:
            raise SchemaError(f"{where}: a primitive field has no children")
        type_ = Type(element, array)
    elif element[:1].isupper():
        if children_lines:
            struct = Struct(element, scope_struct.qualified + "::" + element,
                            scope_struct.path + "." + name)
            scope_struct.children.append(struct)
            parse_fields(api, children_lines, struct)
        elif element in api.common:
            struct = api.common[element]
        else:
            raise SchemaError(f"{where}: struct '{element}' has no fields and is not common")
        type_ = Type(element, array, struct)
    else:
        raise SchemaError(f"{where}: unknown type '{element}'")
    versions = versions.intersect(api.versions)
    if tag is not None:
        flexible_range = api.flexible
        if versions.intersect(flexible_range).lo != versions.lo or versions.empty():
            raise SchemaError(f"{where}: tagged field outside the flexible versions")
    if not nullable.empty():
        if type_.is_struct() and not array:
            raise SchemaError(f"{where}: nullable structs are not supported")
        if type_.name in FIXED and not array:
            raise SchemaError(f"{where}: a fixed-width type cannot be nullable")
    if default == "null" and nullable.intersect(versions).lo != versions.lo:
        raise SchemaError(f"{where}: default null on a field not nullable in all its versions")
    return Field(name, type_, versions, nullable, tag, default, ignorable, key, where)


def split_blocks(lines, indent):
    """Groups lines at `indent` with their deeper children."""
    blocks, i = [], 0
    while i < len(lines):
        level, tokens, where = lines[i]
        if level != indent:
            raise SchemaError(f"{where}: unexpected indentation")
        j = i + 1
        while j < len(lines) and lines[j][0] > indent:
            j += 1
        blocks.append((tokens, where, lines[i + 1:j]))
        i = j
    return blocks


def parse_fields(api, lines, struct):
    if not lines:
        return
    for tokens, where, children in split_blocks(lines, lines[0][0]):
        field = parse_field(api, tokens, where, struct, children)
        if any(f.name == field.name for f in struct.fields):
            raise SchemaError(f"{where}: duplicate field {field.name}")
        if field.tag is not None and any(f.tag == field.tag for f in struct.fields):
            raise SchemaError(f"{where}: duplicate tag {field.tag}")
        struct.fields.append(field)


def parse_api(path):
    api = Api()
    api.file = os.path.splitext(os.path.basename(path))[0]
    lines = tokenize(path)
    for tokens, where, children in split_blocks(lines, 0):
        head = tokens[0]
        if head == "api":
            m = re.fullmatch(r"api (\w+) key (\d+) versions (\S+) flexible (\S+)( response-header-v0)?",
                             " ".join(tokens))
            if not m:
                raise SchemaError(f"{where}: expected 'api NAME key N versions R flexible R'")
            api.name, api.key = m.group(1), int(m.group(2))
            api.versions = Range.parse(m.group(3), where)
            api.flexible = Range.parse(m.group(4), where)
            if not api.flexible.empty() and api.flexible.hi != VERSION_MAX:
                raise SchemaError(f"{where}: flexible versions must be open-ended (N+)")
            api.response_header_v0 = m.group(5) is not None
        elif head == "struct":
            name = tokens[1]
            struct = Struct(name, name, name)
            parse_fields(api, children, struct)
            api.common[name] = struct
        elif head in ("request", "response"):
            if api.name is None:
                raise SchemaError(f"{where}: 'api' line first")
            name = api.name + head.capitalize()
            struct = Struct(name, name, name)
            struct.top = True
            parse_fields(api, children, struct)
            setattr(api, head, struct)
        else:
            raise SchemaError(f"{where}: unknown block '{head}'")
    if api.request is None or api.response is None:
        raise SchemaError(f"{path}: needs a request and a response")
    return api


# ---------------------------------------------------------------- C++ rendering helpers


def element_cpp(field):
    t = field.type
    if t.is_struct():
        return t.struct.qualified
    if t.name in FIXED:
        return FIXED[t.name][0]
    if t.name == "records":
        return "Records"
    return "std::string"


def field_cpp(field):
    base = element_cpp(field)
    if field.type.array:
        base = f"std::vector<{base}>"
    if field.optional():
        base = f"std::optional<{base}>"
    return base


def default_init(field):
    d = field.default
    t = field.type
    if d == "null":
        return " = std::nullopt"
    if t.array and field.optional():
        if d is not None:
            raise SchemaError(f"{field.line}: only null can be the default of an array")
        return f" = std::make_optional<std::vector<{element_cpp(field)}>>()"
    if t.array or t.is_struct() or t.name in ("records", "uuid"):
        if d is not None:
            raise SchemaError(f"{field.line}: only null can be the default of this type")
        return ""
    if t.name in ("string", "bytes"):
        if d is None or d == '""':
            return " = std::string()" if field.optional() else ""
        if not (d.startswith('"') and d.endswith('"')):
            raise SchemaError(f"{field.line}: string defaults are quoted")
        return f" = std::string({d})" if field.optional() else f" = {d}"
    if t.name == "bool":
        if d not in (None, "true", "false"):
            raise SchemaError(f"{field.line}: bad bool default")
        return f" = {d or 'false'}"
    if t.name == "float64":
        return f" = {d or '0'}.0" if d is None or "." not in d else f" = {d}"
    if d is not None and not re.fullmatch(r"-?\d+|0x[0-9a-fA-F]+", d):
        raise SchemaError(f"{field.line}: bad integer default '{d}'")
    return f" = {d or '0'}"


def is_default(field, x):
    t, d = field.type, field.default
    if d == "null":
        return f"!{x}.has_value()"
    if t.array:
        return f"({x}.has_value() && {x}->empty())" if field.optional() else f"{x}.empty()"
    if t.is_struct():
        return f"{x} == {t.struct.qualified}{{}}"
    if t.name == "records":
        return f"{x}.is_null()"
    if t.name == "uuid":
        return f"{x} == Uuid{{}}"
    if t.name in ("string", "bytes"):
        literal = d if d not in (None, '""') else None
        if field.optional():
            return f"({x}.has_value() && *{x} == {literal or 'std::string()'})"
        return f"{x} == {literal}" if literal else f"{x}.empty()"
    return f"{x} == {default_init(field)[3:]}"


class Ctx:
    """Per-struct rendering context."""

    def __init__(self, api):
        self.api = api
        self.counter = 0

    def fresh(self, base):
        self.counter += 1
        return f"{base}_{self.counter}"


def nullable_cond(field, api):
    return field.nullable.intersect(field.versions).cond(api.versions) if field.optional() or \
        field.type.name == "records" else "false"


def encode_scalar(t, x):
    """Statements writing one non-array value `x` of type t (not optional)."""
    if t.is_struct():
        return [f"{x}.EncodeTo(version, writer);"]
    if t.name in FIXED:
        return [f"writer.{FIXED[t.name][3]}({x});"]
    if t.name == "string":
        return [f"writer.String({x}, flexible);"]
    if t.name == "bytes":
        return [f"writer.Bytes({x}, flexible);"]
    if t.name == "records":
        return [f"writer.WriteRecords({x}, flexible);"]
    raise AssertionError(t.name)


def encode_value(ctx, field, x):
    t = field.type
    out = []
    if field.optional():
        null_call = "NullArray" if t.array else ("NullString" if t.name == "string" else "NullBytes")
        out.append(f"if (!{x}.has_value()) {{")
        out.append(f"  writer.{null_call}(flexible);")
        out.append("} else {")
        inner = encode_nonnull(ctx, t, f"(*{x})")
        out += ["  " + line for line in inner]
        out.append("}")
        return out
    return encode_nonnull(ctx, t, x)


def encode_nonnull(ctx, t, x):
    if not t.array:
        return encode_scalar(t, x)
    item = ctx.fresh("item")
    element = Type(t.name, False, t.struct)
    out = [f"writer.ArrayCount({x}.size(), flexible);",
           f"for (const auto& {item} : {x}) {{"]
    out += ["  " + line for line in encode_scalar(element, item)]
    out.append("}")
    return out


def size_scalar(t, x):
    if t.is_struct():
        return f"{x}.Size(version)"
    if t.name in FIXED:
        return str(FIXED[t.name][1])
    if t.name == "string":
        return f"StringSizeBytes({x}.size(), flexible)"
    if t.name == "bytes":
        return f"BytesSizeBytes({x}.size(), flexible)"
    if t.name == "records":
        return f"RecordsSizeBytes({x}, flexible)"
    raise AssertionError(t.name)


def size_value(ctx, field, x, acc):
    t = field.type
    if field.optional():
        null_size = "NullBytesSizeBytes(flexible)" if t.array or t.name == "bytes" else \
            "NullStringSizeBytes(flexible)"
        out = [f"if (!{x}.has_value()) {{", f"  {acc} += {null_size};", "} else {"]
        out += ["  " + line for line in size_nonnull(ctx, t, f"(*{x})", acc)]
        out.append("}")
        return out
    return size_nonnull(ctx, t, x, acc)


def size_nonnull(ctx, t, x, acc):
    if not t.array:
        return [f"{acc} += {size_scalar(t, x)};"]
    out = [f"{acc} += ArrayCountSizeBytes({x}.size(), flexible);"]
    element = Type(t.name, False, t.struct)
    if t.name in FIXED:
        out.append(f"{acc} += {x}.size() * {FIXED[t.name][1]};")
    else:
        item = ctx.fresh("item")
        out.append(f"for (const auto& {item} : {x}) {acc} += {size_scalar(element, item)};")
    return out


def element_min(t):
    if t.is_struct():
        return f"{t.struct.qualified}::MinSizeBytes(version)"
    if t.name in FIXED:
        return str(FIXED[t.name][1])
    return "(flexible ? 1 : 2)" if t.name == "string" else "(flexible ? 1 : 4)"


def decode_scalar(t, target, reader):
    if t.is_struct():
        return [f"{target}.DecodeFrom(version, {reader});"]
    if t.name in FIXED:
        return [f"{target} = {reader}.{FIXED[t.name][2]}();"]
    if t.name == "string":
        return [f"{target} = {reader}.String(flexible);"]
    if t.name == "bytes":
        return [f"{target} = {reader}.Bytes(flexible);"]
    raise AssertionError(t.name)


def decode_value(ctx, field, target, reader):
    t, api = field.type, ctx.api
    nullable = nullable_cond(field, api)
    if t.name == "records" and not t.array:
        return [f"{target} = {reader}.ReadRecords(flexible, {nullable});"]
    if not t.array:
        if field.optional():
            method = "NullableString" if t.name == "string" else "NullableBytes"
            return [f"{target} = {reader}.{method}(flexible, {nullable});"]
        return decode_scalar(t, target, reader)
    count, items, i = ctx.fresh("count"), ctx.fresh("items"), ctx.fresh("i")
    element = Type(t.name, False, t.struct)
    out = [f"const int32_t {count} = {reader}.ArrayCount(flexible, {element_min(t)}, {nullable});"]
    if field.optional():
        out.append(f"if ({count} < 0) {{")
        out.append(f"  {target} = std::nullopt;")
        out.append("} else {")
        out.append(f"  auto& {items} = {target}.emplace();")
    else:
        out.append("{")
        out.append(f"  auto& {items} = {target};")
    out.append(f"  {items}.reserve(static_cast<size_t>({count}));")
    out.append(f"  for (int32_t {i} = 0; {i} < {count} && {reader}.ok(); ++{i}) {{")
    if t.is_struct():
        out.append(f"    {items}.emplace_back().DecodeFrom(version, {reader});")
    else:
        value = decode_scalar(element, "const auto value", reader)[0]
        out.append(f"    {value}")
        out.append(f"    {items}.push_back(value);")
    out.append("  }")
    out.append("}")
    return out


def validate_value(ctx, struct, field, x):
    """Checks on a field present at the version: nulls, string lengths, nested structs."""
    t, api = field.type, ctx.api
    out = []
    name = f'"{field.name}"'
    if field.optional():
        nullable = nullable_cond(field, api)
        if nullable != "true":
            out.append(f"if (!{x}.has_value() && !({nullable})) "
                       f"return FieldError(kName, {name}, version, \"null is not allowed\");")
        value = f"(*{x})"
        out.append(f"if ({x}.has_value()) {{")
        indent = "  "
    else:
        value, indent = x, ""
    if t.name == "records" and not t.array:
        nullable = nullable_cond(field, api)
        if nullable != "true":
            out.append(f"if ({x}.is_null() && !({nullable})) "
                       f"return FieldError(kName, {name}, version, \"null is not allowed\");")
        out.append(f"if ({x}.size_bytes() > kBytesSizeBytesMax) "
                   f"return FieldError(kName, {name}, version, \"too long\");")
    inner = []
    if t.array:
        inner.append(f"if ({value}.size() > kArrayCountMax) "
                     f"return FieldError(kName, {name}, version, \"too many elements\");")
        if t.is_struct() or t.name == "string":
            item = ctx.fresh("item")
            inner.append(f"for (const auto& {item} : {value}) {{")
            inner += ["  " + line for line in validate_scalar(t, item, name)]
            inner.append("}")
    elif t.name != "records":
        inner += validate_scalar(t, value, name)
    out += [indent + line for line in inner]
    if field.optional():
        out.append("}")
    return out


def validate_scalar(t, x, name):
    if t.is_struct():
        return [f"EDDY_RETURN_IF_ERROR({x}.Validate(version));"]
    if t.name == "string":
        return [f"if ({x}.size() > kStringLengthMax) "
                f"return FieldError(kName, {name}, version, \"string too long\");"]
    if t.name == "bytes":
        return [f"if ({x}.size() > kBytesSizeBytesMax) "
                f"return FieldError(kName, {name}, version, \"bytes too long\");"]
    return []


def field_present_cond(field, api):
    cond = field.versions.cond(api.versions)
    if field.tag is not None:
        cond = "flexible" if cond == "true" else f"flexible && {cond}"
    return cond


def min_size(api, struct, version):
    flexible = api.flexible.contains(version)
    total = 1 if flexible else 0
    for f in struct.fields:
        if f.tag is not None or not f.versions.contains(version):
            continue
        t = f.type
        if t.array:
            total += 1 if flexible else 4
        elif t.is_struct():
            total += min_size(api, t.struct, version)
        elif t.name in FIXED:
            total += FIXED[t.name][1]
        elif t.name == "string":
            total += 1 if flexible else 2
        else:
            total += 1 if flexible else 4
    return total


# ---------------------------------------------------------------- header


def all_structs(struct):
    """Nested structs first (declaration order), then the struct itself."""
    for child in struct.children:
        yield from all_structs(child)
    yield struct


def field_comment(field):
    parts = [f"v{field.versions.text()}"]
    if not field.nullable.empty():
        parts.append(f"nullable v{field.nullable.intersect(field.versions).text()}")
    if field.tag is not None:
        parts.append(f"tag {field.tag}")
    if field.ignorable:
        parts.append("ignorable")
    if field.key:
        parts.append("map key")
    return ", ".join(parts)


def declare_struct(api, struct, indent):
    p = " " * indent
    out = [f"{p}struct {struct.name} {{"]
    for child in struct.children:
        out += declare_struct(api, child, indent + 2)
        out.append("")
    out.append(f'{p}  static constexpr char kName[] = "{struct.path}";')
    if struct.top:
        flex = api.flexible.lo if not api.flexible.empty() else VERSION_MAX
        out.append(f"{p}  static constexpr int16_t kApiKey = {api.key};")
        out.append(f"{p}  static constexpr int16_t kVersionMin = {api.versions.lo};")
        out.append(f"{p}  static constexpr int16_t kVersionMax = {api.versions.hi};")
        out.append(f"{p}  // Versions at or above this one use compact encodings and tagged fields.")
        out.append(f"{p}  static constexpr int16_t kFlexibleVersionMin = {flex};")
    out.append("")
    for field in struct.fields:
        out.append(f"{p}  {field_cpp(field)} {field.member}{default_init(field)};  // {field.name}: "
                   f"{field_comment(field)}")
    out.append(f"{p}  UnknownTaggedFields unknown_tagged_fields;")
    out.append("")
    if struct.top:
        out.append(f"{p}  // Validates, then writes the body (no header, no size prefix). On error the")
        out.append(f"{p}  // writer is untouched. REQUIRES: nothing (an out-of-range version is an error).")
        out.append(f"{p}  absl::Status Encode(int16_t version, Writer& writer) const;")
        out.append(f"{p}  // Resets *this and reads one body from the reader's position. Records fields")
        out.append(f"{p}  // are views into the reader's bytes.")
        out.append(f"{p}  absl::Status Decode(int16_t version, Reader& reader);")
    out.append(f"{p}  // Bytes EncodeTo writes. REQUIRES: Validate(version) is OK.")
    out.append(f"{p}  size_t Size(int16_t version) const;")
    out.append(f"{p}  // OK when every field can be written at `version`: fields absent at it hold their")
    out.append(f"{p}  // default (unless ignorable), nulls only where nullable, lengths within limits.")
    out.append(f"{p}  absl::Status Validate(int16_t version) const;")
    out.append(f"{p}  void EncodeTo(int16_t version, Writer& writer) const;")
    out.append(f"{p}  void DecodeFrom(int16_t version, Reader& reader);")
    out.append(f"{p}  // Fewest bytes one encoded value takes (bounds untrusted array counts).")
    out.append(f"{p}  static size_t MinSizeBytes(int16_t version);")
    out.append(f"{p}  bool operator==(const {struct.name}&) const = default;")
    out.append(f"{p}}};")
    return out


def render_header(api):
    out = [f"// Generated by core/kafka/gen/kgen.py from core/kafka/schemas/{api.file}.ks. Do not edit.",
           f"// {api.name} (api key {api.key}): versions {api.versions.text()}, flexible "
           f"{api.flexible.text()}.",
           "#pragma once", "",
           "#include <cstddef>", "#include <cstdint>", "#include <optional>", "#include <string>",
           "#include <vector>", "", '#include "absl/status/status.h"',
           '#include "core/kafka/wire.h"', "", "namespace eddy::kafka {", ""]
    for struct in api.common.values():
        out += declare_struct(api, struct, 0)
        out.append("")
    out += declare_struct(api, api.request, 0)
    out.append("")
    out += declare_struct(api, api.response, 0)
    out += ["", "}  // namespace eddy::kafka", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- source


def flexible_line(api):
    if api.flexible.empty():
        return "  [[maybe_unused]] constexpr bool flexible = false;"
    return f"  [[maybe_unused]] const bool flexible = version >= {api.flexible.lo};"


def render_encode_to(api, struct):
    ctx = Ctx(api)
    out = [f"void {struct.qualified}::EncodeTo([[maybe_unused]] int16_t version, "
           f"Writer& writer) const {{", flexible_line(api)]
    for f in struct.fields:
        if f.tag is not None:
            continue
        cond = field_present_cond(f, api)
        if cond == "false":
            continue
        body = encode_value(ctx, f, f.member)
        if cond == "true":
            out += ["  " + line for line in body]
        else:
            out.append(f"  if ({cond}) {{")
            out += ["    " + line for line in body]
            out.append("  }")
    if not api.flexible.empty():
        out.append("  if (flexible) {")
        tagged = sorted((f for f in struct.fields if f.tag is not None), key=lambda f: f.tag)
        out.append("    uint32_t tagged_count = static_cast<uint32_t>(unknown_tagged_fields.size());")
        for f in tagged:
            cond = field_present_cond(f, api)
            out.append(f"    const bool has_{f.member} = ({cond}) && !({is_default(f, f.member)});")
            out.append(f"    tagged_count += has_{f.member} ? 1 : 0;")
        out.append("    writer.UnsignedVarint(tagged_count);")
        out.append("    size_t unknown_index = 0;")
        for f in tagged:
            out.append(f"    WriteUnknownTaggedFieldsBelow({f.tag}, unknown_tagged_fields, "
                       f"&unknown_index, writer);")
            out.append(f"    if (has_{f.member}) {{")
            out.append(f"      writer.UnsignedVarint({f.tag});")
            out.append("      size_t field_size_bytes = 0;")
            out += ["      " + line for line in size_value(ctx, f, f.member, "field_size_bytes")]
            out.append("      writer.UnsignedVarint(static_cast<uint32_t>(field_size_bytes));")
            out += ["      " + line for line in encode_value(ctx, f, f.member)]
            out.append("    }")
        out.append("    WriteUnknownTaggedFieldsBelow(UINT64_MAX, unknown_tagged_fields, "
                   "&unknown_index, writer);")
        out.append("  }")
    out.append("}")
    return out


def render_size(api, struct):
    ctx = Ctx(api)
    out = [f"size_t {struct.qualified}::Size([[maybe_unused]] int16_t version) const {{",
           flexible_line(api), "  size_t size_bytes = 0;"]
    for f in struct.fields:
        if f.tag is not None:
            continue
        cond = field_present_cond(f, api)
        if cond == "false":
            continue
        body = size_value(ctx, f, f.member, "size_bytes")
        if cond == "true":
            out += ["  " + line for line in body]
        else:
            out.append(f"  if ({cond}) {{")
            out += ["    " + line for line in body]
            out.append("  }")
    if not api.flexible.empty():
        out.append("  if (flexible) {")
        out.append("    uint32_t tagged_count = static_cast<uint32_t>(unknown_tagged_fields.size());")
        out.append("    size_bytes += UnknownTaggedFieldsSizeBytes(unknown_tagged_fields);")
        for f in sorted((f for f in struct.fields if f.tag is not None), key=lambda f: f.tag):
            cond = field_present_cond(f, api)
            out.append(f"    if (({cond}) && !({is_default(f, f.member)})) {{")
            out.append("      size_t field_size_bytes = 0;")
            out += ["      " + line for line in size_value(ctx, f, f.member, "field_size_bytes")]
            out.append("      ++tagged_count;")
            out.append(f"      size_bytes += UnsignedVarintSizeBytes({f.tag}) + "
                       "UnsignedVarintSizeBytes(static_cast<uint32_t>(field_size_bytes)) + "
                       "field_size_bytes;")
            out.append("    }")
        out.append("    size_bytes += UnsignedVarintSizeBytes(tagged_count);")
        out.append("  }")
    out.append("  return size_bytes;")
    out.append("}")
    return out


def render_decode_from(api, struct):
    ctx = Ctx(api)
    out = [f"void {struct.qualified}::DecodeFrom([[maybe_unused]] int16_t version, "
           f"Reader& reader) {{", flexible_line(api)]
    for f in struct.fields:
        if f.tag is not None:
            continue
        cond = field_present_cond(f, api)
        if cond == "false":
            continue
        body = decode_value(ctx, f, f.member, "reader")
        if cond == "true":
            out += ["  " + line for line in body]
        else:
            out.append(f"  if ({cond}) {{")
            out += ["    " + line for line in body]
            out.append("  }")
    if not api.flexible.empty():
        out.append("  if (!flexible) return;")
        out.append("  const uint32_t tagged_count = reader.TaggedFieldCount();")
        out.append("  for (uint32_t tag_index = 0; tag_index < tagged_count && reader.ok(); "
                   "++tag_index) {")
        out.append("    const uint32_t tag = reader.UnsignedVarint();")
        out.append("    const uint32_t field_size_bytes = reader.UnsignedVarint();")
        out.append("    Reader field_reader = reader.Split(field_size_bytes);")
        out.append("    if (!reader.ok()) return;")
        tagged = [f for f in struct.fields if f.tag is not None]
        if tagged:
            out.append("    switch (tag) {")
            for f in sorted(tagged, key=lambda f: f.tag):
                out.append(f"      case {f.tag}:")
                out.append(f"        if ({field_present_cond(f, api)}) {{")
                out += ["          " + line for line in decode_value(ctx, f, f.member, "field_reader")]
                out.append(f'          reader.Join(field_reader, "{struct.path}.{f.name}");')
                out.append("          continue;")
                out.append("        }")
                out.append("        break;")
            out.append("      default:")
            out.append("        break;")
            out.append("    }")
        out.append("    const std::span<const uint8_t> data = "
                   "field_reader.Raw(field_reader.remaining_bytes());")
        out.append("    unknown_tagged_fields.push_back(UnknownTaggedField{"
                   "tag, std::string(reinterpret_cast<const char*>(data.data()), data.size())});")
        out.append("  }")
    out.append("}")
    return out


def render_validate(api, struct):
    ctx = Ctx(api)
    out = [f"absl::Status {struct.qualified}::Validate([[maybe_unused]] int16_t version) const {{",
           flexible_line(api)]
    for f in struct.fields:
        cond = field_present_cond(f, api)
        present = validate_value(ctx, struct, f, f.member)
        absent = [] if f.ignorable else [
            f"if (!({is_default(f, f.member)})) return FieldError(kName, \"{f.name}\", version, "
            f"\"not at its default but absent at this version\");"]
        if cond == "true" or (not absent and cond != "false"):
            if cond != "true" and present:
                out.append(f"  if ({cond}) {{")
                out += ["    " + line for line in present]
                out.append("  }")
            else:
                out += ["  " + line for line in present]
        elif cond == "false":
            out += ["  " + line for line in absent]
        else:
            out.append(f"  if ({cond}) {{")
            out += ["    " + line for line in present]
            if absent:
                out.append("  } else {")
                out += ["    " + line for line in absent]
            out.append("  }")
    if not api.flexible.empty():
        out.append("  if (!flexible && !unknown_tagged_fields.empty()) {")
        out.append('    return FieldError(kName, "(tagged fields)", version, '
                   '"no tagged fields before the flexible versions");')
        out.append("  }")
    out.append("  return absl::OkStatus();")
    out.append("}")
    return out


def render_min_size(api, struct):
    table = [str(min_size(api, struct, v)) for v in range(api.versions.lo, api.versions.hi + 1)]
    return [f"size_t {struct.qualified}::MinSizeBytes(int16_t version) {{",
            f"  static constexpr uint32_t kTable[] = {{{', '.join(table)}}};",
            f"  if (version < {api.versions.lo} || version > {api.versions.hi}) return 1;",
            f"  return kTable[version - {api.versions.lo}];", "}"]


def render_top(api, struct):
    q = struct.qualified
    return [
        f"absl::Status {q}::Encode(int16_t version, Writer& writer) const {{",
        f"  if (version < kVersionMin || version > kVersionMax) {{",
        f'    return absl::InvalidArgumentError(absl::StrCat("kafka: {q} has no version ", version));',
        "  }",
        "  EDDY_RETURN_IF_ERROR(Validate(version));",
        "  [[maybe_unused]] const size_t start_size_bytes = writer.size_bytes();",
        "  EncodeTo(version, writer);",
        "  EDDY_CHECK_EQ(writer.size_bytes() - start_size_bytes, Size(version));",
        "  return absl::OkStatus();",
        "}", "",
        f"absl::Status {q}::Decode(int16_t version, Reader& reader) {{",
        f"  *this = {q}();",
        f"  if (version < kVersionMin || version > kVersionMax) {{",
        f'    return absl::InvalidArgumentError(absl::StrCat("kafka: {q} has no version ", version));',
        "  }",
        "  DecodeFrom(version, reader);",
        "  return reader.status();",
        "}", ""]


def render_source(api):
    out = [f"// Generated by core/kafka/gen/kgen.py from core/kafka/schemas/{api.file}.ks. Do not edit.",
           f'#include "core/kafka/generated/{api.file}.h"', "",
           '#include "absl/strings/str_cat.h"', '#include "core/base/check.h"',
           '#include "core/base/status_macros.h"', "", "namespace eddy::kafka {", ""]
    structs = []
    for struct in api.common.values():
        structs += list(all_structs(struct))
    structs += list(all_structs(api.request)) + list(all_structs(api.response))
    for struct in structs:
        for part in (render_encode_to, render_size, render_decode_from, render_validate,
                     render_min_size):
            out += part(api, struct)
            out.append("")
        if struct.top:
            out += render_top(api, struct)
    out += ["}  // namespace eddy::kafka", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- RapidCheck generators


def gen_function_name(struct):
    return "Gen" + struct.qualified.replace("::", "_")


def gen_scalar(t, nullable):
    if t.is_struct():
        return f"{gen_function_name(t.struct)}(version)"
    if t.name in FIXED:
        if t.name == "uuid":
            return "GenUuid()"
        if t.name == "float64":
            return "GenFloat64()"
        return f"rc::gen::arbitrary<{FIXED[t.name][0]}>()"
    if t.name == "records":
        return f"GenRecords({nullable})"
    return "GenString()" if t.name == "string" else "GenBytes()"


def gen_value(api, field):
    t = field.type
    nullable = nullable_cond(field, api)
    element = Type(t.name, False, t.struct)
    if t.array:
        inner = f"GenVector({gen_scalar(element, 'false')})"
        if field.optional():
            return f"GenNullable({nullable}, {inner})"
        return inner
    if field.optional():
        return f"GenNullable({nullable}, {gen_scalar(element, 'false')})"
    return gen_scalar(t, nullable)


def render_gen(api, struct):
    name = gen_function_name(struct)
    out = [f"inline rc::Gen<{struct.qualified}> {name}(int16_t version) {{",
           f"  return rc::gen::exec([version] {{",
           flexible_line(api).replace("  [[", "    [["),
           f"    {struct.qualified} value;"]
    for f in struct.fields:
        cond = field_present_cond(f, api)
        if cond == "false":
            continue
        out.append(f"    if ({cond}) value.{f.member} = *{gen_value(api, f)};")
    if not api.flexible.empty():
        tags = [f.tag for f in struct.fields if f.tag is not None]
        first_free = max(tags) + 1 if tags else 0
        out.append(f"    if (flexible) value.unknown_tagged_fields = *GenUnknownTaggedFields({first_free});")
    out.append("    return value;")
    out.append("  });")
    out.append("}")
    return out


def render_testing_header(api):
    out = [f"// Generated by core/kafka/gen/kgen.py from core/kafka/schemas/{api.file}.ks. Do not edit.",
           f"// RapidCheck generators of {api.name} messages that are valid at the given version:",
           "// fields absent at it keep their defaults, nulls only where nullable.",
           "#pragma once", "", f'#include "core/kafka/generated/{api.file}.h"',
           '#include "core/kafka/testing/generators.h"', "",
           "namespace eddy::kafka::testing {", ""]
    for top in list(api.common.values()) + [api.request, api.response]:
        for struct in all_structs(top):
            out += render_gen(api, struct)
            out.append("")
    out += ["}  // namespace eddy::kafka::testing", ""]
    return "\n".join(out)


def render_round_trip_test(api):
    return "\n".join([
        f"// Generated by core/kafka/gen/kgen.py from core/kafka/schemas/{api.file}.ks. Do not edit.",
        f"// Proves, for {api.name} requests and responses at every version "
        f"{api.versions.text()}: random valid",
        "// messages encode to exactly Size() bytes, decode back equal and re-encode byte-identically;",
        "// every strict prefix of an encoding fails to decode; every single-byte corruption either",
        "// fails or decodes to a message that round-trips (run under ASan/UBSan in CI).",
        f'#include "core/kafka/generated/{api.file}_testing.h"',
        '#include "core/kafka/testing/round_trip.h"', '#include "gtest/gtest.h"', "",
        "namespace eddy::kafka::testing {", "namespace {", "",
        f"TEST({api.name}RoundTrip, Request) {{",
        f"  CheckEveryVersion<{api.name}Request>({gen_function_name(api.request)});", "}", "",
        f"TEST({api.name}RoundTrip, Response) {{",
        f"  CheckEveryVersion<{api.name}Response>({gen_function_name(api.response)});", "}", "",
        "}  // namespace", "}  // namespace eddy::kafka::testing", ""])


# ---------------------------------------------------------------- registry


def render_apis_header(apis):
    out = ["// Generated by core/kafka/gen/kgen.py from every schema in core/kafka/schemas/.",
           "// The APIs Eddy's codec supports and their version ranges (see PROTOCOL.md).",
           "#pragma once", "", "#include <cstdint>", "#include <span>", "",
           "namespace eddy::kafka {", "", "enum class ApiKey : int16_t {"]
    for api in apis:
        out.append(f"  k{api.name} = {api.key},")
    out += ["};", "",
            "struct ApiInfo {",
            "  int16_t api_key;",
            "  const char* name;",
            "  int16_t version_min;",
            "  int16_t version_max;",
            "  // Versions >= this are flexible (compact encodings, tagged fields, header v2/v1);",
            "  // INT16_MAX when none is.",
            "  int16_t flexible_version_min;",
            "  // ApiVersions: the response header is v0 at every version (KIP-511).",
            "  bool response_header_always_v0;",
            "};", "",
            "// Every supported API, sorted by api key.",
            "std::span<const ApiInfo> SupportedApis();",
            "// The API with this key, or nullptr when Eddy does not know it.",
            "const ApiInfo* FindApi(int16_t api_key);", "",
            "}  // namespace eddy::kafka", ""]
    return "\n".join(out)


def render_apis_source(apis):
    out = ["// Generated by core/kafka/gen/kgen.py. Do not edit.", '#include "core/kafka/generated/apis.h"',
           "", "#include <algorithm>", "#include <cstdint>", "", "namespace eddy::kafka {", "namespace {",
           "", "constexpr ApiInfo kApis[] = {"]
    for api in apis:
        flex = api.flexible.lo if not api.flexible.empty() else "INT16_MAX"
        out.append(f'    {{{api.key}, "{api.name}", {api.versions.lo}, {api.versions.hi}, {flex}, '
                   f'{"true" if api.response_header_v0 else "false"}}},')
    out += ["};", "", "}  // namespace", "",
            "std::span<const ApiInfo> SupportedApis() { return kApis; }", "",
            "const ApiInfo* FindApi(int16_t api_key) {",
            "  const auto* it = std::lower_bound(std::begin(kApis), std::end(kApis), api_key,",
            "      [](const ApiInfo& info, int16_t key) { return info.api_key < key; });",
            "  return it != std::end(kApis) && it->api_key == api_key ? it : nullptr;", "}", "",
            "}  // namespace eddy::kafka", ""]
    return "\n".join(out)


def render_dispatch(apis):
    out = ["// Generated by core/kafka/gen/kgen.py. Do not edit.",
           '#include "core/kafka/generated/apis_testing.h"', "",
           '#include "core/kafka/testing/check_body.h"']
    for api in apis:
        out.append(f'#include "core/kafka/generated/{api.file}.h"')
    out += ["", "namespace eddy::kafka::testing {", ""]
    for kind in ("Request", "Response"):
        out.append(f"absl::Status Check{kind}Body(int16_t api_key, int16_t version, "
                   "std::span<const uint8_t> body) {")
        out.append("  switch (api_key) {")
        for api in apis:
            out.append(f"    case {api.key}:")
            out.append(f"      return CheckBody<{api.name}{kind}>(version, body);")
        out += ["    default:", '      return absl::NotFoundError("unknown api key");', "  }", "}", ""]
    for kind in ("Request", "Response"):
        out.append(f"absl::StatusOr<std::string> Reencode{kind}Body(int16_t api_key, int16_t version, "
                   "std::span<const uint8_t> body) {")
        out.append("  switch (api_key) {")
        for api in apis:
            out.append(f"    case {api.key}:")
            out.append(f"      return ReencodeBody<{api.name}{kind}>(version, body);")
        out += ["    default:", '      return absl::NotFoundError("unknown api key");', "  }", "}", ""]
    out += ["}  // namespace eddy::kafka::testing", ""]
    return "\n".join(out)


def render_dispatch_header():
    return "\n".join([
        "// Generated by core/kafka/gen/kgen.py. Do not edit.",
        "// Decodes a request or response body of any supported API; when it decodes, checks that it",
        "// re-encodes to exactly Size() bytes and decodes back equal (aborting otherwise). For fuzzers",
        "// and malformed-input tests. kNotFound for an unknown api key.",
        "#pragma once", "", "#include <cstdint>", "#include <span>", "#include <string>", "",
        '#include "absl/status/status.h"', '#include "absl/status/statusor.h"', "", "namespace eddy::kafka::testing {", "",
        "absl::Status CheckRequestBody(int16_t api_key, int16_t version, std::span<const uint8_t> body);",
        "absl::Status CheckResponseBody(int16_t api_key, int16_t version, std::span<const uint8_t> body);",
        "// Decodes a body and returns its re-encoding (the golden tests compare it with the input).",
        "absl::StatusOr<std::string> ReencodeRequestBody(int16_t api_key, int16_t version,",
        "                                                std::span<const uint8_t> body);",
        "absl::StatusOr<std::string> ReencodeResponseBody(int16_t api_key, int16_t version,",
        "                                                 std::span<const uint8_t> body);",
        "", "}  // namespace eddy::kafka::testing", ""])


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("schemas", nargs="+")
    args = parser.parse_args()
    try:
        apis = sorted((parse_api(p) for p in args.schemas), key=lambda a: a.key)
    except SchemaError as e:
        print(f"kgen: {e}", file=sys.stderr)
        return 1
    keys = [a.key for a in apis]
    if len(set(keys)) != len(keys):
        print("kgen: duplicate api key", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for api in apis:
        write(os.path.join(args.out, f"{api.file}.h"), render_header(api))
        write(os.path.join(args.out, f"{api.file}.cc"), render_source(api))
        write(os.path.join(args.out, f"{api.file}_testing.h"), render_testing_header(api))
        write(os.path.join(args.out, f"{api.file}_round_trip_test.cc"), render_round_trip_test(api))
    write(os.path.join(args.out, "apis.h"), render_apis_header(apis))
    write(os.path.join(args.out, "apis.cc"), render_apis_source(apis))
    write(os.path.join(args.out, "apis_testing.h"), render_dispatch_header())
    write(os.path.join(args.out, "apis_testing.cc"), render_dispatch(apis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
