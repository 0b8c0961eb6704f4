/*
 * mail.c: the digest as a mail, multipart/alternative with the text form
 * first and the HTML form second (clients show the last they can), built
 * with GMime and piped to the system's sendmail, the way cron and every
 * MTA-side tool sends mail. The command comes from [digest] sendmail; when
 * it does not read the recipients from the header (-t), they are appended
 * as arguments; -f makes [digest] from the envelope sender as well, so a
 * bounce goes where the From header says, not to the local account that
 * ran the digest. sendmail failing, or not finishing within
 * sendmail-timeout, is ERR_TEMP: run again later.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "digest/digest.h"
#include "ingest/mail.h"

static GMimePart *mail_part(const char *subtype, const char *body)
{
	GMimePart *part = GMIME_PART(g_mime_text_part_new_with_subtype(subtype));

	g_mime_text_part_set_text(GMIME_TEXT_PART(part), body);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return part;
}

/* The whole message as bytes; the caller owns them. */
static GBytes *mail_build(const struct digest *d, const struct digest_config *c, char **to)
{
	g_autofree char *text = digest_render_text(d), *html = digest_render_html(d);
	g_autofree char *subject = digest_subject(d), *id = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
	GMimePart *tp = mail_part("plain", text), *hp = mail_part("html", html);
	const char *at = strrchr(c->from, '@');
	GByteArray *buf = g_byte_array_new();
	GMimeStream *out = g_mime_stream_mem_new_with_byte_array(buf);

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, c->from);
	for (guint i = 0; to[i] != NULL; i++)
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, to[i]);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, now);
	id = g_mime_utils_generate_message_id(at != NULL ? at + 1 : g_get_host_name());
	g_mime_message_set_message_id(msg, id);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-generated", NULL);
	g_mime_multipart_add(alt, GMIME_OBJECT(tp));
	g_mime_multipart_add(alt, GMIME_OBJECT(hp));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, out);
	g_object_unref(out);
	g_object_unref(tp);
	g_object_unref(hp);
	g_object_unref(alt);
	g_object_unref(msg);
	return g_byte_array_free_to_bytes(buf);
}

static gboolean mail_has_t(char **argv)
{
	for (guint i = 1; argv[i] != NULL; i++)
		if (g_str_equal(argv[i], "-t"))
			return TRUE;
	return FALSE;
}

/* Waiting for sendmail, with a deadline: a sendmail that cannot hand the
 * message over may never exit (Postfix's postdrop retries for ever when
 * it cannot write to the maildrop queue, as under NoNewPrivileges). */
struct mail_wait {
	GMainLoop *loop;
	GAsyncResult *result; /* the communication's, once done (owned) */
	gboolean late;	      /* the deadline passed first */
};

static void mail_wait_done(GObject *proc, GAsyncResult *res, gpointer data)
{
	struct mail_wait *w = data;

	w->result = g_object_ref(res);
	g_main_loop_quit(w->loop);
}

static gboolean mail_wait_late(gpointer data)
{
	struct mail_wait *w = data;

	w->late = TRUE;
	g_main_loop_quit(w->loop);
	return G_SOURCE_REMOVE;
}

/* In the child, before exec: a process group of its own, so that a late
 * sendmail is killed with the postdrop it started. */
static void mail_child_setup(gpointer data)
{
	setpgid(0, 0);
}

/* Feed msg to proc's stdin and wait for it to exit, timeout seconds at
 * most; then it is killed. FALSE with *gerr set when it could not be fed,
 * or G_IO_ERROR_TIMED_OUT when it did not exit in time. */
static gboolean mail_send(GSubprocess *proc, GBytes *msg, gint64 timeout, GError **gerr)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	g_autoptr(GMainLoop) loop = g_main_loop_new(ctx, FALSE);
	g_autoptr(GSource) deadline = g_timeout_source_new_seconds((guint)MIN(timeout, G_MAXUINT));
	struct mail_wait w = { .loop = loop };
	gboolean ok;

	g_main_context_push_thread_default(ctx);
	g_source_set_callback(deadline, mail_wait_late, &w, NULL);
	g_source_attach(deadline, ctx);
	g_subprocess_communicate_async(proc, msg, NULL, mail_wait_done, &w);
	g_main_loop_run(loop);
	if (w.late) {
		/* sendmail and what it started (postdrop): its process group.
		 * The pending communication ends when the process does. */
		kill(-(pid_t)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10), SIGKILL);
		g_subprocess_force_exit(proc); /* had setpgid failed */
		while (w.result == NULL)
			g_main_context_iteration(ctx, TRUE);
	}
	g_source_destroy(deadline);
	/* Late, how it ended (killed, a broken pipe) says nothing more. */
	ok = g_subprocess_communicate_finish(proc, w.result, NULL, NULL, w.late ? NULL : gerr);
	g_object_unref(w.result);
	g_main_context_pop_thread_default(ctx);
	if (w.late)
		g_set_error(gerr, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			    "killed after %" G_GINT64_FORMAT " s", timeout);
	return ok && !w.late;
}

int digest_mail(const struct digest *d, const struct digest_config *c, char **to, struct error *err)
{
	g_auto(GStrv) argv = NULL;
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(GError) gerr = NULL;

	if (!g_shell_parse_argv(c->sendmail, NULL, &argv, &gerr))
		return error_set(err, ERR_CONFIG, "[digest] sendmail: %s", gerr->message);
	for (guint i = 0; argv[i] != NULL; i++)
		g_ptr_array_add(args, argv[i]);
	g_ptr_array_add(args, "-f");
	g_ptr_array_add(args, c->from);
	if (!mail_has_t(argv)) {
		g_ptr_array_add(args, "--");
		for (guint i = 0; to[i] != NULL; i++)
			g_ptr_array_add(args, to[i]);
	}
	g_ptr_array_add(args, NULL);
	mail_library_init();
	msg = mail_build(d, c, to);
	g_subprocess_launcher_set_child_setup(launcher, mail_child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)args->pdata, &gerr);
	if (proc == NULL || !mail_send(proc, msg, c->sendmail_timeout, &gerr)) {
		if (g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			return error_set(err, ERR_TEMP,
					 "%s did not finish within %" G_GINT64_FORMAT
					 " s ([digest] sendmail-timeout), killed: digest not sent",
					 argv[0], c->sendmail_timeout);
		return error_set(err, ERR_TEMP, "cannot run %s: %s: digest not sent", argv[0],
				 gerr->message);
	}
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
		return error_set(
			err, ERR_TEMP, "%s failed (exit %d): digest not sent", argv[0],
			g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1);
	return 0;
}
