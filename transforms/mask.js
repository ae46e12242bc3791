// A prensio rule (transform.rules): masks text_col in both row images, drops heartbeat rows, keys by table and id.
function transform(cdc_event) {
  if (cdc_event.table === 'heartbeat') return ACTION_DROP;
  for (const row of [...(cdc_event.before || []), ...(cdc_event.after || [])]) {
    if (typeof row.text_col === 'string' && row.text_col.length > 3) row.text_col = tObfString(row.text_col);
  }
  cdc_event.kafka.key = cdc_event.table + '.' + cdc_event.kafka.key;
  return ACTION_CONT;
}
