-- Model evaluation (issue 5). An evaluation or comparison is a check report of kind
-- `evaluation` or `comparison` that also names the model version it judged, the version it was
-- compared with (comparisons) and the predictions dataset version it wrote (evaluations).
-- Lineage gains the relations evaluated (model_version -> report), reference_model
-- (model_version -> report compared with it) and predicted (report -> predictions version).
ALTER TABLE check_reports ADD COLUMN model_version_id INTEGER REFERENCES model_versions(id);
ALTER TABLE check_reports ADD COLUMN reference_model_version_id INTEGER REFERENCES model_versions(id);
ALTER TABLE check_reports ADD COLUMN output_version_id INTEGER REFERENCES dataset_versions(id);
CREATE INDEX check_reports_model ON check_reports (model_version_id, id);
