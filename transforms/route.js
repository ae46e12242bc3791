// Native contract: topic per table, heartbeat rows dropped, deletes of users copied to an audit topic.
function transform(event) {
  if (event.table === 'heartbeat') return null;
  event.destination = event.database + '.' + event.table;
  if (event.op === 'delete' && event.table === 'users') {
    return [event, { ...event, destination: 'audit', audited_at: event.ts }];
  }
  return event;
}
