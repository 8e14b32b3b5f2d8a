-- Personal data (LGPD/GDPR): when a customer was erased (POST
-- /v1/customers/{id}/erase, lib/store/store_privacy.c). The row stays, so
-- tickets, orders and notifications keep their counts; its name is NULL.
ALTER TABLE customer ADD COLUMN erased_at timestamptz;
