-- What each shipment carried: the channel's unit line ids of a store fulfillment sent as a
-- package, or of a platform package recorded in the store (JSON array of strings). A second
-- store fulfillment reads it to ship only units no earlier one took, even before the
-- channel's next snapshot shows the earlier package. NULL on rows from before, and on rows
-- that carried nothing. The state of a row can now also be `not_sent`: a store fulfillment
-- deliberately not sent (the platform ships the order, or every unit it names is shipped
-- already), with the reason in failure_kind, failure and fix. Mirrors ../postgres/0010_shipment_units.sql.

ALTER TABLE order_shipments ADD COLUMN units TEXT;
