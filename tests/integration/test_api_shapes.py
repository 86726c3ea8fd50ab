"""Marquez's JSON shapes (reference/marquez-api.md 1.4), as checkers the test_api_* tests share.

A shape says, for every object, its keys in order (Marquez writes Java fields in declaration order and
never omits a null), and for every value its type: timestamps are ISO-8601 UTC with six fraction
digits, ids are lower-case UUIDs, nullable values are present with null. This module holds no tests.
"""

import re

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Shape:
    def check(self, v, path, errors):
        raise NotImplementedError


class Scalar(Shape):
    def __init__(self, name, types, regex=None, values=None):
        self.name, self.types, self.regex, self.values = name, types, regex, values

    def check(self, v, path, errors):
        if isinstance(v, bool) and bool not in self.types:
            errors.append("%s: expected %s, got %r" % (path, self.name, v))
        elif not isinstance(v, self.types):
            errors.append("%s: expected %s, got %r" % (path, self.name, v))
        elif self.regex is not None and not self.regex.match(v):
            errors.append("%s: expected %s, got %r" % (path, self.name, v))
        elif self.values is not None and v not in self.values:
            errors.append("%s: expected one of %s, got %r" % (path, sorted(self.values), v))


class Nullable(Shape):
    def __init__(self, inner):
        self.inner = inner

    def check(self, v, path, errors):
        if v is not None:
            self.inner.check(v, path, errors)


class List(Shape):
    def __init__(self, item):
        self.item = item

    def check(self, v, path, errors):
        if not isinstance(v, list):
            errors.append("%s: expected an array, got %r" % (path, v))
            return
        for i, x in enumerate(v):
            self.item.check(x, "%s[%d]" % (path, i), errors)


class Map(Shape):
    """An object with any keys (facets, args), each value of one shape."""

    def __init__(self, value):
        self.value = value

    def check(self, v, path, errors):
        if not isinstance(v, dict):
            errors.append("%s: expected an object, got %r" % (path, v))
            return
        for k, x in v.items():
            self.value.check(x, "%s.%s" % (path, k), errors)


class Obj(Shape):
    """An object with exactly these keys, in this order."""

    def __init__(self, **fields):
        self.fields = fields

    def check(self, v, path, errors):
        if not isinstance(v, dict):
            errors.append("%s: expected an object, got %r" % (path, v))
            return
        if list(v.keys()) != list(self.fields):
            errors.append("%s: keys %s, expected %s" % (path, list(v.keys()), list(self.fields)))
        for k, shape in self.fields.items():
            if k in v:
                shape.check(v[k], "%s.%s" % (path, k), errors)


class Any(Shape):
    def check(self, v, path, errors):
        pass


STR = Scalar("string", (str,))
INT = Scalar("integer", (int,))
BOOL = Scalar("boolean", (bool,))
TS = Scalar("ISO-8601 UTC timestamp with microseconds", (str,), TS_RE)
UUID = Scalar("lower-case UUID", (str,), UUID_RE)
OBJECT = Map(Any())
FACETS = Map(Map(Any()))


def enum(*values):
    return Scalar("enum", (str,), values=set(values))


N = Nullable
RUN_STATE = enum("NEW", "RUNNING", "COMPLETED", "ABORTED", "FAILED", "OTHER")

DATASET_ID = Obj(namespace=STR, name=STR)
DATASET_VERSION_REF = Obj(datasetVersionId=Obj(namespace=STR, name=STR, version=UUID), facets=FACETS)

RUN = Obj(id=UUID, createdAt=TS, updatedAt=TS, nominalStartTime=N(TS), nominalEndTime=N(TS), state=RUN_STATE,
          startedAt=N(TS), endedAt=N(TS), durationMs=N(INT), args=Map(STR),
          jobVersion=N(Obj(namespace=STR, name=STR, version=UUID)),
          inputDatasetVersions=List(DATASET_VERSION_REF), outputDatasetVersions=List(DATASET_VERSION_REF),
          facets=FACETS)

FIELD = Obj(name=STR, type=N(STR), tags=List(STR), description=N(STR))
COLUMN_LINEAGE = Obj(name=STR, inputFields=List(Obj(namespace=STR, dataset=STR, field=STR,
                                                      transformationDescription=N(STR),
                                                      transformationType=N(STR))),
                     transformationDescription=N(STR), transformationType=N(STR))

DATASET = Obj(id=DATASET_ID, type=enum("DB_TABLE", "STREAM"), name=STR, physicalName=STR, createdAt=TS,
              updatedAt=TS, namespace=STR, sourceName=STR, fields=List(FIELD), tags=List(STR),
              lastModifiedAt=N(TS), lastLifecycleState=N(STR), description=N(STR), currentVersion=N(UUID),
              columnLineage=N(List(COLUMN_LINEAGE)), facets=FACETS, deleted=BOOL,
              datasetType=N(STR), subType=N(STR))  # lineaged's kinds, after Marquez's keys

DATASET_VERSION = Obj(id=DATASET_ID, type=enum("DB_TABLE", "STREAM"), name=STR, physicalName=STR, createdAt=TS,
                      version=UUID, namespace=STR, sourceName=STR, fields=List(FIELD), tags=List(STR),
                      lifecycleState=N(STR), description=N(STR), currentSchemaVersion=N(UUID),
                      createdByRun=N(RUN), facets=FACETS)

JOB = Obj(id=DATASET_ID, type=enum("BATCH", "STREAM", "SERVICE"), name=STR, simpleName=STR,
          parentJobName=N(STR), parentJobUuid=N(UUID), createdAt=TS, updatedAt=TS, namespace=STR,
          inputs=List(DATASET_ID), outputs=List(DATASET_ID), location=N(STR), description=N(STR),
          latestRun=N(RUN), latestRuns=N(List(RUN)), facets=FACETS, currentVersion=N(UUID), labels=List(STR),
          tags=List(STR))

JOB_VERSION = Obj(id=Obj(namespace=STR, name=STR, version=UUID), name=STR, createdAt=TS, version=UUID,
                  namespace=STR, location=N(STR), inputs=List(DATASET_ID), outputs=List(DATASET_ID),
                  latestRun=N(RUN))

NAMESPACE = Obj(name=STR, createdAt=TS, updatedAt=TS, ownerName=STR, description=N(STR), isHidden=BOOL)
SOURCE = Obj(type=STR, name=STR, createdAt=TS, updatedAt=TS, connectionUrl=STR, description=N(STR))
TAG = Obj(name=STR, description=N(STR))
SEARCH_RESULT = Obj(type=enum("DATASET", "JOB"), name=STR, updatedAt=TS, namespace=STR, nodeId=STR,
                    datasetType=N(STR), subType=N(STR),  # lineaged's, after Marquez's keys
                    matchedIn=enum("name", "fields", "description", "tags", "owners"), matched=STR)
LINEAGE_METRIC = Obj(startInterval=TS, endInterval=TS, fail=INT, start=INT, complete=INT, abort=INT)
INTERVAL_METRIC = Obj(startInterval=TS, endInterval=TS, count=INT)

NAMESPACES = Obj(namespaces=List(NAMESPACE))
SOURCES = Obj(sources=List(SOURCE))
TAGS = Obj(tags=List(TAG))
DATASETS = Obj(totalCount=INT, datasets=List(DATASET))
DATASET_VERSIONS = Obj(versions=List(DATASET_VERSION), totalCount=INT)
JOBS = Obj(totalCount=INT, jobs=List(JOB))
JOB_VERSIONS = Obj(versions=List(JOB_VERSION))
RUNS = Obj(runs=List(RUN), totalCount=INT)
RUN_FACETS = Obj(runId=UUID, facets=FACETS)
SEARCH = Obj(totalCount=INT, results=List(SEARCH_RESULT))
EVENTS = Obj(events=List(OBJECT), totalCount=INT)
LINEAGE_METRICS = List(LINEAGE_METRIC)
INTERVAL_METRICS = List(INTERVAL_METRIC)


def shape_errors(value, shape):
    errors = []
    shape.check(value, "$", errors)
    return errors


class ShapeAsserts:
    """Mix into a TestCase: assertShape(resp, SHAPE) checks a 200 JSON reply and returns its body."""

    def assertShape(self, resp, shape, status=200):
        self.assertStatus(resp, status)
        ct = resp.headers.get("content-type", "")
        self.assertTrue(ct.startswith("application/json"), "content-type %r: %r" % (ct, resp))
        body = resp.json()
        errors = shape_errors(body, shape)
        if errors:
            self.fail("%d shape errors:\n  %s\nbody: %s" % (len(errors), "\n  ".join(errors[:20]), resp.text()[:1500]))
        return body
