// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ClickHouse sink: flow records into a table over ClickHouse's HTTP
 * interface (libcurl), one INSERT ... FORMAT TabSeparated per journal
 * message.  The columns are the flow and export fields of the record
 * table (lib/fields.c, rendered by lib/fmt.c's TSV writer) after five of
 * the sink's own: exporter, observation_domain, attachment, record and
 * exported.
 *
 * Exactly once.  A row is identified by (exporter, observation_domain,
 * ifname, attachment, seq, record): seq is the journal's sequence number
 * of the message, record the row's place in it, attachment the
 * attachment's wall-clock attach time (seq starts again with a new
 * attachment).  An INSERT of one message lands in one partition (the
 * partition key is `exported`, one value per message), so it commits
 * whole or not at all.  When a send fails or a kill cuts it, the core
 * keeps the message in flight and asks (committed()): a query still
 * running under the message's query_id -> ask again later; else its rows
 * are there -> committed; none -> not sent, computed again.  The table is
 * a ReplacingMergeTree whose sorting key is that identity, so even a
 * repeat could not survive FINAL or a merge.
 *
 * ClickHouse down: nothing is lost and nothing waits in memory.  The
 * deltas stay in the kernel's flow map (the exporter sends nothing while
 * a message is unsettled), bounded by the attachment's --max-flows; what
 * does not fit there goes to the overflow bucket, counted and reported
 * by status and by the exporter's log.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "sink.h"
#include "../lib/fmt.h"
#include "../lib/log.h"

/* the sink's own columns, before the record's */
static const struct {
	const char *name, *type;
} ch_own[] = {
	{ "exporter", "String" },
	{ "observation_domain", "UInt32" },
	{ "attachment", "UInt64" },
	{ "record", "UInt32" },
	{ "exported", "DateTime('UTC')" },
};

/* the row identity: the sorting key of the ReplacingMergeTree */
#define CH_ORDER "exporter, observation_domain, ifname, attachment, seq, record"

static const struct nacct_fmt ch_fmt = { NACCT_FMT_TSV, NACCT_OUT_FLOW | NACCT_OUT_EXPORT };

struct ch_sink {
	struct nacct_sink base;
	struct nacct_ch_opts o;
	CURL *h;
	struct curl_slist *hdrs;
	char *insert_sql; /* INSERT INTO db.t (columns) FORMAT TabSeparated */
	int ready;        /* database, table and columns checked */
	unsigned int server_major, server_minor;
	struct nacct_obuf buf, resp;
	unsigned int records;
	__u64 sealed_seq; /* the sequence number of the message sealed last */
	char exported[24];
	char last_err[256]; /* warned once until it changes */
	int own_ttl;        /* --ttl-days on a server without table TTL: nacct drops old days */
	time_t ttl_at;      /* the last time it did */
};

static struct ch_sink *ch_of(struct nacct_sink *s)
{
	return (struct ch_sink *)s;
}

int nacct_ch_ident_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64 || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* 'text' as a SQL string literal */
static void sql_str(struct nacct_obuf *o, const char *s)
{
	nacct_obuf_chr(o, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			nacct_obuf_chr(o, '\\');
		nacct_obuf_chr(o, *s);
	}
	nacct_obuf_chr(o, '\'');
}

/* the ClickHouse type of a field's column */
static void ch_type(struct nacct_obuf *o, const struct nacct_field *f)
{
	const char *t;

	switch (f->kind) {
	case NACCT_FK_U64:
		t = "UInt64";
		break;
	case NACCT_FK_TIME:
		t = "DateTime('UTC')";
		break;
	case NACCT_FK_MILLI:
		t = "Float64";
		break;
	case NACCT_FK_BOOL:
		t = "UInt8";
		break;
	default: /* text, addresses, flags letters, nested JSON */
		t = "String";
		break;
	}
	if (nacct_field_nullable(f))
		nacct_obuf_printf(o, "Nullable(%s)", t);
	else
		nacct_obuf_str(o, t);
}

static void warn_once(struct ch_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn_once(struct ch_sink *s, const char *fmt, ...)
{
	char msg[sizeof(s->last_err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(msg, s->last_err)) {
		pr_warn("export: clickhouse %s: %s\n", s->o.url, msg);
		snprintf(s->last_err, sizeof(s->last_err), "%s", msg);
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	nacct_obuf_mem(arg, p, size * n);
	return size * n;
}

/*
 * One statement: sql in the URL, body (if any) posted after it.  The
 * answer in s->resp (NUL-terminated).  0 on HTTP 200; -ECONNREFUSED when
 * the server could not be reached (nothing went); -EIO otherwise.
 */
static int ch_query(struct ch_sink *s, const char *sql, const void *body, size_t blen,
		    const char *query_id)
{
	struct nacct_obuf url = { 0 };
	char *esc;
	long code = 0;
	CURLcode rc;

	nacct_obuf_printf(&url, "%s/?", s->o.url);
	if (query_id) {
		esc = curl_easy_escape(s->h, query_id, 0);
		nacct_obuf_printf(&url, "query_id=%s&", esc ? esc : "");
		curl_free(esc);
	}
	esc = curl_easy_escape(s->h, sql, 0);
	nacct_obuf_printf(&url, "query=%s", esc ? esc : "");
	curl_free(esc);
	if (url.err) {
		nacct_obuf_free(&url);
		return -ENOMEM;
	}
	s->resp.len = 0;
	curl_easy_setopt(s->h, CURLOPT_URL, url.p);
	curl_easy_setopt(s->h, CURLOPT_POST, 1L);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? blen : 0));
	rc = curl_easy_perform(s->h);
	nacct_obuf_free(&url);
	nacct_obuf_chr(&s->resp, '\0');
	s->resp.len--;
	if (rc != CURLE_OK) {
		warn_once(s, "%s", curl_easy_strerror(rc));
		return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST
			       ? -ECONNREFUSED : -EIO;
	}
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		char *nl = strchr(s->resp.p ? s->resp.p : "", '\n');

		if (nl)
			*nl = '\0';
		warn_once(s, "HTTP %ld: %s", code, s->resp.p ? s->resp.p : "");
		return -EIO;
	}
	return 0;
}

/* a query whose answer is one number */
static int ch_count(struct ch_sink *s, const char *sql, unsigned long long *n)
{
	int err = ch_query(s, sql, NULL, 0, NULL);

	if (err)
		return err;
	if (!s->resp.p || sscanf(s->resp.p, "%llu", n) != 1)
		return -EPROTO;
	return 0;
}

/* db.table, both checked identifiers */
static void table_name(struct nacct_obuf *o, const struct ch_sink *s)
{
	nacct_obuf_printf(o, "%s.%s", s->o.database, s->o.table);
}

/* (the columns, in the rows' order): the sink's own, then the record's; types: with their types */
static void ch_columns(struct nacct_obuf *q, int types)
{
	size_t i;

	nacct_obuf_chr(q, '(');
	for (i = 0; i < sizeof(ch_own) / sizeof(ch_own[0]); i++)
		nacct_obuf_printf(q, "%s%s%s%s", i ? ", " : "", ch_own[i].name, types ? " " : "",
				  types ? ch_own[i].type : "");
	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (!nacct_fmt_has(&ch_fmt, f))
			continue;
		nacct_obuf_printf(q, ", %s", f->name);
		if (types) {
			nacct_obuf_chr(q, ' ');
			ch_type(q, f);
		}
	}
	nacct_obuf_chr(q, ')');
}

static int create_table(struct ch_sink *s)
{
	struct nacct_obuf q = { 0 };
	int err;

	nacct_obuf_str(&q, "CREATE TABLE IF NOT EXISTS ");
	table_name(&q, s);
	nacct_obuf_chr(&q, ' ');
	ch_columns(&q, 1);
	nacct_obuf_str(&q, " ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(exported) "
			   "ORDER BY (" CH_ORDER ")");
	if (s->o.ttl_days && !s->own_ttl)
		nacct_obuf_printf(&q, " TTL exported + INTERVAL %u DAY", s->o.ttl_days);
	err = q.err ? q.err : ch_query(s, q.p, NULL, 0, NULL);
	nacct_obuf_free(&q);
	return err;
}

/* a table made by an older nacct: the columns it lacks are added */
static int add_columns(struct ch_sink *s)
{
	struct nacct_obuf q = { 0 }, have = { 0 };
	size_t i;
	int err;

	nacct_obuf_str(&q, "SELECT name FROM system.columns WHERE database = ");
	sql_str(&q, s->o.database);
	nacct_obuf_str(&q, " AND table = ");
	sql_str(&q, s->o.table);
	nacct_obuf_str(&q, " FORMAT TabSeparated");
	err = q.err ? q.err : ch_query(s, q.p, NULL, 0, NULL);
	nacct_obuf_free(&q);
	if (err)
		return err;
	/* "\nname1\nname2\n": a name is there when "\nname\n" is */
	nacct_obuf_chr(&have, '\n');
	nacct_obuf_mem(&have, s->resp.p, s->resp.len);
	nacct_obuf_chr(&have, '\0');
	for (i = 0; i < nacct_flow_nfields && !err; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];
		char look[80];

		if (!nacct_fmt_has(&ch_fmt, f))
			continue;
		snprintf(look, sizeof(look), "\n%s\n", f->name);
		if (have.p && strstr(have.p, look))
			continue;
		memset(&q, 0, sizeof(q));
		nacct_obuf_str(&q, "ALTER TABLE ");
		table_name(&q, s);
		nacct_obuf_printf(&q, " ADD COLUMN %s ", f->name);
		ch_type(&q, f);
		err = q.err ? q.err : ch_query(s, q.p, NULL, 0, NULL);
		if (!err)
			pr_info("export: clickhouse: column %s added to %s.%s\n", f->name,
				s->o.database, s->o.table);
		nacct_obuf_free(&q);
	}
	nacct_obuf_free(&have);
	return err;
}

static int ch_open(struct nacct_sink *sk, __u64 seq)
{
	struct ch_sink *s = ch_of(sk);
	struct nacct_obuf q = { 0 };
	int err;

	if (s->ready)
		return 0;
	err = ch_query(s, "SELECT version()", NULL, 0, NULL);
	if (err)
		return err;
	if (sscanf(s->resp.p ? s->resp.p : "", "%u.%u", &s->server_major, &s->server_minor) != 2)
		return -EPROTO;
	/* table TTL: 19.6; before, nacct drops the days (partitions) that are too old */
	if (s->o.ttl_days && !s->own_ttl &&
	    (s->server_major < 19 || (s->server_major == 19 && s->server_minor < 6))) {
		s->own_ttl = 1;
		pr_info("export: clickhouse %s: server %u.%u has no table TTL: nacct drops the days "
			"older than %u itself, every hour\n", s->o.url, s->server_major,
			s->server_minor, s->o.ttl_days);
	}
	nacct_obuf_printf(&q, "CREATE DATABASE IF NOT EXISTS %s", s->o.database);
	err = q.err ? q.err : ch_query(s, q.p, NULL, 0, NULL);
	nacct_obuf_free(&q);
	if (!err)
		err = create_table(s);
	if (!err)
		err = add_columns(s);
	if (err)
		return err;
	s->ready = 1;
	if (s->last_err[0])
		pr_info("export: clickhouse %s: reachable again\n", s->o.url);
	s->last_err[0] = '\0';
	return 0;
}

static int ch_rec(struct nacct_sink *sk, const struct nacct_rec *r)
{
	struct ch_sink *s = ch_of(sk);

	if (s->records >= s->o.batch)
		return -ENOSPC;
	if (!s->records) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(s->exported, sizeof(s->exported), "%Y-%m-%d %H:%M:%S", &tm);
	}
	/* the sink's own columns (ch_own), then the record's */
	nacct_obuf_tsv_str(&s->buf, s->o.exporter);
	nacct_obuf_chr(&s->buf, '\t');
	nacct_obuf_u64(&s->buf, s->o.domain);
	nacct_obuf_chr(&s->buf, '\t');
	nacct_obuf_u64(&s->buf, s->o.attachment);
	nacct_obuf_chr(&s->buf, '\t');
	nacct_obuf_u64(&s->buf, s->records);
	nacct_obuf_chr(&s->buf, '\t');
	nacct_obuf_str(&s->buf, s->exported);
	nacct_obuf_chr(&s->buf, '\t');
	nacct_fmt_rec(&s->buf, &ch_fmt, r);
	if (s->buf.err)
		return s->buf.err;
	s->records++;
	return 0;
}

/* the interface totals are not flow records: status, serve and IPFIX carry them */
static int ch_totals(struct nacct_sink *sk, const struct nacct_xtotals *t)
{
	return 0;
}

static int ch_seal(struct nacct_sink *sk, __u64 seq, const void **buf, size_t *len,
		   unsigned int *records)
{
	struct ch_sink *s = ch_of(sk);

	*len = 0;
	if (s->buf.err)
		return s->buf.err;
	*buf = s->buf.p;
	*len = s->buf.len;
	*records = s->records;
	s->sealed_seq = seq;
	/* the bytes stay until the next append */
	s->buf.len = 0;
	s->records = 0;
	return 0;
}

/* the query id of the message of seq: the same for every try of it */
static void query_id(const struct ch_sink *s, __u64 seq, char *b, size_t n)
{
	snprintf(b, n, "nacct:%s:%u:%s:%llu:%llu", s->o.exporter, s->o.domain, s->o.ifname,
		 (unsigned long long)s->o.attachment, (unsigned long long)seq);
}

/*
 * --ttl-days on a server without table TTL: the partitions (one a day,
 * toYYYYMMDD(exported)) older than the cutoff are dropped, at most once an
 * hour.  Several exporters doing it at once drop the same days: harmless.
 */
static void drop_old_days(struct ch_sink *s)
{
	struct nacct_obuf q = { 0 };
	char cutoff[16], *days, *d, *save = NULL;
	time_t now = time(NULL), old = now - (time_t)s->o.ttl_days * 86400;
	struct tm tm;

	if (!s->own_ttl || (s->ttl_at && now - s->ttl_at < 3600))
		return;
	s->ttl_at = now;
	gmtime_r(&old, &tm);
	strftime(cutoff, sizeof(cutoff), "%Y%m%d", &tm);
	nacct_obuf_str(&q, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = ");
	sql_str(&q, s->o.database);
	nacct_obuf_str(&q, " AND table = ");
	sql_str(&q, s->o.table);
	nacct_obuf_printf(&q, " AND partition < '%s' FORMAT TabSeparated", cutoff);
	if (q.err || ch_query(s, q.p, NULL, 0, NULL) || !s->resp.p) {
		nacct_obuf_free(&q);
		return;
	}
	nacct_obuf_free(&q);
	days = strdup(s->resp.p);
	for (d = strtok_r(days, "\n", &save); d; d = strtok_r(NULL, "\n", &save)) {
		if (strspn(d, "0123456789") != strlen(d) || strlen(d) != 8)
			continue;
		memset(&q, 0, sizeof(q));
		nacct_obuf_str(&q, "ALTER TABLE ");
		table_name(&q, s);
		nacct_obuf_printf(&q, " DROP PARTITION %s", d);
		if (!q.err && !ch_query(s, q.p, NULL, 0, NULL))
			pr_info("export: clickhouse: day %s dropped from %s.%s (--ttl-days %u)\n", d,
				s->o.database, s->o.table, s->o.ttl_days);
		nacct_obuf_free(&q);
	}
	free(days);
}

static int ch_send(struct nacct_sink *sk, const void *buf, size_t len, struct mmsghdr *mm)
{
	struct ch_sink *s = ch_of(sk);
	char qid[256];
	int err;

	memset(mm, 0, sizeof(*mm));
	err = ch_open(sk, 0);
	if (err)
		return err;
	query_id(s, s->sealed_seq, qid, sizeof(qid));
	err = ch_query(s, s->insert_sql, buf, len, qid);
	if (err) {
		/* the server may have gone: check the table again when it is back */
		s->ready = 0;
		return err;
	}
	mm->msg_len = len;
	drop_old_days(s);
	return 0;
}

static int ch_committed(struct nacct_sink *sk, __u64 seq, unsigned int records)
{
	struct ch_sink *s = ch_of(sk);
	struct nacct_obuf q = { 0 };
	unsigned long long n = 0;
	char qid[256];
	int err;

	err = ch_open(sk, 0);
	if (err)
		return err;
	/* the insert may still be running (its client was killed): wait for it */
	query_id(s, seq, qid, sizeof(qid));
	nacct_obuf_str(&q, "SELECT count() FROM system.processes WHERE query_id = ");
	sql_str(&q, qid);
	err = q.err ? q.err : ch_count(s, q.p, &n);
	nacct_obuf_free(&q);
	if (err)
		return err;
	if (n)
		return -EINPROGRESS;
	memset(&q, 0, sizeof(q));
	nacct_obuf_str(&q, "SELECT count() FROM ");
	table_name(&q, s);
	nacct_obuf_str(&q, " WHERE exporter = ");
	sql_str(&q, s->o.exporter);
	nacct_obuf_printf(&q, " AND observation_domain = %u AND ifname = ", s->o.domain);
	sql_str(&q, s->o.ifname);
	nacct_obuf_printf(&q, " AND attachment = %llu AND seq = %llu",
			  (unsigned long long)s->o.attachment, (unsigned long long)seq);
	err = q.err ? q.err : ch_count(s, q.p, &n);
	nacct_obuf_free(&q);
	if (err)
		return err;
	if (n && n != records)
		pr_warn("export: clickhouse: message %llu has %llu of its %u rows\n",
			(unsigned long long)seq, n, records);
	return n ? 1 : 0;
}

static void ch_close(struct nacct_sink *sk)
{
	struct ch_sink *s = ch_of(sk);

	if (s->h)
		curl_easy_cleanup(s->h);
	curl_slist_free_all(s->hdrs);
	curl_global_cleanup();
	free(s->insert_sql);
	nacct_obuf_free(&s->buf);
	nacct_obuf_free(&s->resp);
	free(s);
}

static const struct nacct_sink_ops ch_ops = {
	.open = ch_open,
	.rec = ch_rec,
	.totals = ch_totals,
	.seal = ch_seal,
	.send = ch_send,
	.close = ch_close,
	.committed = ch_committed,
};

int nacct_sink_clickhouse_new(struct nacct_sink **out, const struct nacct_ch_opts *o)
{
	struct ch_sink *s;
	struct nacct_obuf q = { 0 };

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	s->base.ops = &ch_ops;
	s->o = *o;
	if (!s->o.batch || s->o.batch > NACCT_XJ_ITEMS_MAX)
		s->o.batch = NACCT_CH_BATCH;
	s->h = curl_easy_init();
	/* the INSERT and its column list, once */
	nacct_obuf_str(&q, "INSERT INTO ");
	table_name(&q, s);
	nacct_obuf_chr(&q, ' ');
	ch_columns(&q, 0);
	nacct_obuf_str(&q, " FORMAT TabSeparated");
	nacct_obuf_chr(&q, '\0');
	if (!s->h || q.err) {
		nacct_obuf_free(&q);
		ch_close(&s->base);
		return -ENOMEM;
	}
	s->insert_sql = q.p;
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
	/* no "Expect: 100-continue" round trip before each batch */
	s->hdrs = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
	if (s->o.user) {
		curl_easy_setopt(s->h, CURLOPT_USERNAME, s->o.user);
		curl_easy_setopt(s->h, CURLOPT_PASSWORD, s->o.password ? s->o.password : "");
	}
	*out = &s->base;
	return 0;
}
