// The seed example of go-mysql-kafka's README, in C#: mark every event, mark the row, and obfuscate text_col.
//
//   function transform(cdc_event) {
//       cdc_event.ext = 1
//       cdc_event.after.forEach((e) => {
//           e.changed = 1
//           if (e.text_col.length > 3) { e.text_col = tObfString(e.text_col) }
//       });
//       return cdc_event
//   }
//
// Unlike the JavaScript, both row images are masked: an update carries the row as it was in Before, and a delete
// carries it only there, so masking After alone would still send the clear text of every updated or deleted row.
// tObfString comes from the UserFunctions helper plugin; helper functions are in scope unqualified.
// Try it: pluginhost check transforms/obfuscate.csx

ChangeEvent Transform(ChangeEvent e)
{
    e.Extra["ext"] = 1;
    Mask(e.Before);
    if (e.After is { } row)
    {
        row["changed"] = 1;
        Mask(row);
    }
    return e;
}

void Mask(Row? row)
{
    if (row?["text_col"] is string s && s.Length > 3) row["text_col"] = tObfString(s);
}
