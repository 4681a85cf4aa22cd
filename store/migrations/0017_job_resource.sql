-- Every job names the resource it works on: order:N, product:N, or the
-- meeting or webinar a Zoom event is about. The claim runs one job of a
-- resource at a time (it ran one job of an order at a time, and products
-- relied on a lock inside one process).
ALTER TABLE jobs ADD COLUMN resource TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_resource ON jobs (resource, state) WHERE resource != '';

UPDATE jobs SET resource = 'order:' || order_id WHERE order_id IS NOT NULL;
UPDATE jobs SET resource = (
    SELECT CASE
        WHEN d.topic LIKE 'product.%' AND json_valid(d.body) AND json_type(d.body, '$.id') IN ('integer', 'text')
            THEN 'product:' || CAST(json_extract(d.body, '$.id') AS INTEGER)
        WHEN d.topic LIKE 'zoom:meeting.%' AND json_valid(d.body) AND json_type(d.body, '$.payload.object.id') IN ('integer', 'text')
            THEN 'meeting:' || CAST(json_extract(d.body, '$.payload.object.id') AS INTEGER)
        WHEN d.topic LIKE 'zoom:webinar.%' AND json_valid(d.body) AND json_type(d.body, '$.payload.object.id') IN ('integer', 'text')
            THEN 'webinar:' || CAST(json_extract(d.body, '$.payload.object.id') AS INTEGER)
        ELSE '' END
    FROM deliveries d WHERE d.id = jobs.delivery)
WHERE order_id IS NULL AND state IN ('queued', 'running');
