function transform(cdc_event) {
	cdc_event.ext = 1
	cdc_event.after.forEach((e) => {
		e.changed = 1
		if (e.text_col.length > 3) {
		e.text_col = tObfString(e.text_col)
		}
	});
return cdc_event
}
