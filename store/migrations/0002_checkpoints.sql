-- Named points in time, e.g. how far reconciliation has read the shop's orders.
CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
