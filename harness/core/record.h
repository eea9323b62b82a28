/*
 * record.h: the run record, the in-memory form of run.json.
 *
 * run.json is the canonical record of a run: every report (terminal, JSON,
 * and later HTML, JUnit, CSV) is rendered from it. Its fields are documented
 * in docs/run-json.md; `schema_version` changes whenever a field changes
 * meaning. The record is a jansson object so it can be written, read back and
 * re-rendered without a second model.
 *
 * Ownership: functions that return json_t * return a new reference; the
 * caller json_decref()s it.
 */
#ifndef ASSAY_CORE_RECORD_H
#define ASSAY_CORE_RECORD_H

#include <jansson.h>

#include "bench.h"
#include "catalogue.h"
#include "error.h"
#include "verdict.h"

#define RECORD_SCHEMA_VERSION 1

/* A new record for a run of `b`: run id, bench identity, devices (without
 * secrets), allowed categories, harness version. `kind` is "run", "rescore"
 * or "review". */
json_t *record_new(const struct bench *b, const char *kind, const char *run_id);

/* The device entry with this id, or NULL (borrowed). */
json_t *record_device(json_t *rec, const char *device_id);

/* Appends a finished test case to a device: {id, version, title, obligations,
 * category, verdict, rationale, resolve?, ...}. Steals `tc`. */
int record_add_testcase(json_t *rec, const char *device_id, json_t *tc, struct assay_error *err);

/*
 * Rolls up every device's test cases into device x obligation verdicts for
 * the obligations in `obligations` (an array of ids, in matrix order), sets
 * `obligations` at the top level, the per-device `obligations` arrays, the
 * verdict counts and the exit code. Test cases naming obligations outside the
 * list are rolled up too, after the listed ones.
 */
int record_rollup(json_t *rec, const json_t *obligations, const struct catalogue *cat);

/* Exit code of a rolled-up record (verdict_exit_code over every cell). */
int record_exit_code(const json_t *rec);

/* Writes the record to path atomically (temporary file, fsync, rename). */
int record_write(const json_t *rec, const char *path, struct assay_error *err);

/* Reads and checks a run.json. */
json_t *record_read(const char *path, struct assay_error *err);

/* A run id: "<UTC yyyymmddThhmmssZ>-<bench name, sanitised>-<6 hex>". buf >= 128 bytes. */
void record_make_id(const char *bench_name, char *buf, size_t size);

#endif
