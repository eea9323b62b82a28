-- soc_fields.lua: the minimum content of a statement of compliance (PSTI-SOC),
-- as data so it can change without touching code.
--
-- [U] Recalled from Schedule 4 of SI 2023/1007 and NOT confirmed against the
-- primary source (OBLIGATIONS.md). Confirm before relying on it; edit here.
--
-- Each entry: path = where the value sits in the dossier, tried in order (the
-- first present wins; "statement_of_compliance." paths first, then the
-- dossier's own fields); kind = "text" (present and not blank), "true" (the
-- declaration must be made, i.e. the value true), "date" (YYYY-MM-DD);
-- label = how a rationale names it. Loaded with load_data("soc_fields").
return {
  { label = "product type", kind = "text",
    paths = { "statement_of_compliance.product_type" } },
  { label = "batch", kind = "text",
    paths = { "statement_of_compliance.batch" } },
  { label = "manufacturer's name", kind = "text",
    paths = { "statement_of_compliance.manufacturer.name", "manufacturer.name" } },
  { label = "manufacturer's address", kind = "text",
    paths = { "statement_of_compliance.manufacturer.address", "manufacturer.address" } },
  { label = "declaration that it was prepared by or on behalf of the manufacturer",
    kind = "true", paths = { "statement_of_compliance.prepared_by_or_for_manufacturer" } },
  { label = "declaration that the security requirements are met", kind = "true",
    paths = { "statement_of_compliance.declaration" } },
  { label = "defined support period end date", kind = "date",
    paths = { "statement_of_compliance.support_period_end" } },
  { label = "signatory's name", kind = "text",
    paths = { "statement_of_compliance.signatory.name" } },
  { label = "signatory's function", kind = "text",
    paths = { "statement_of_compliance.signatory.function" } },
  { label = "place of issue", kind = "text",
    paths = { "statement_of_compliance.signatory.place" } },
  { label = "date of issue", kind = "date",
    paths = { "statement_of_compliance.signatory.date" } },
}
