"""Decodes every golden frame with kafka-python's own request schemas, a second opinion on them.

kafka-python 2.0.2 (python3-kafka) defines request structs for most non-flexible versions. Each
golden frame whose (api key, version) it defines must decode to exactly its last byte; frames it
cannot judge (flexible versions, APIs it lacks) are counted as skipped. capture_all.py runs this
after every capture; run it alone with /usr/bin/python3 core/kafka/capture/cross_check.py.
"""

import glob
import importlib
import inspect
import io
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kafka_wire as kw  # noqa: E402


def kafka_python_requests():
    import kafka.protocol
    from kafka.protocol.api import Request
    out = {}
    for module_info in pkgutil.iter_modules(kafka.protocol.__path__):
        module = importlib.import_module("kafka.protocol." + module_info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Request) and obj is not Request and
                    isinstance(getattr(obj, "API_KEY", None), int) and
                    isinstance(getattr(obj, "API_VERSION", None), int)):
                out[(obj.API_KEY, obj.API_VERSION)] = obj
    return out


def main():
    requests = kafka_python_requests()
    testdata = os.path.join(HERE, "..", "testdata")
    decoded, skipped, failed = 0, 0, []
    for path in sorted(glob.glob(os.path.join(testdata, "*.bin"))):
        frame = open(path, "rb").read()
        api_key, version, _, _, _, body_at = kw.parse_request_header(frame)
        request = requests.get((api_key, version))
        if request is None or kw.is_flexible(api_key, version):
            skipped += 1
            continue
        stream = io.BytesIO(frame[body_at:])
        try:
            request.decode(stream)
            left = len(frame) - body_at - stream.tell()
        except Exception as e:  # noqa: BLE001 - any decoder failure is a finding
            failed.append("%s: %r" % (os.path.basename(path), e))
            continue
        if left:
            failed.append("%s: %d bytes left after decoding" % (os.path.basename(path), left))
        else:
            decoded += 1
    for line in failed:
        print("cross_check: FAIL " + line)
    print("cross_check: kafka-python's schemas decode %d frames exactly, %d fail, %d not judged "
          "(flexible, or an API it lacks)" % (decoded, len(failed), skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
