/*
 * sigclean.c - scratch files removed on a fatal signal; see sigclean.h.
 */
#include "util/sigclean.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define SIGCLEAN_PATH_MAX 4096

static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NR_FATAL (sizeof(fatal) / sizeof(fatal[0]))

/* The handler's state (see sigclean.h): written only while unarmed. */
static struct {
	volatile sig_atomic_t armed;
	char file[SIGCLEAN_PATH_MAX], dir[SIGCLEAN_PATH_MAX];
	struct sigaction old[NR_FATAL];
} state;

static void on_signal(int sig)
{
	size_t i;

	if (state.armed) {
		state.armed = 0;
		unlink(state.file);
		if (state.dir[0])
			rmdir(state.dir);
	}
	for (i = 0; i < NR_FATAL; i++)
		if (fatal[i] == sig)
			sigaction(sig, &state.old[i], NULL);
	raise(sig);
}

int sigclean_arm(const char *file, const char *dir)
{
	struct sigaction sa;
	size_t i;

	if (strlen(file) >= SIGCLEAN_PATH_MAX ||
	    (dir && strlen(dir) >= SIGCLEAN_PATH_MAX))
		return -1;
	sigclean_disarm();
	memcpy(state.file, file, strlen(file) + 1);
	if (dir)
		memcpy(state.dir, dir, strlen(dir) + 1);
	else
		state.dir[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NR_FATAL; i++)
		sigaction(fatal[i], &sa, &state.old[i]);
	state.armed = 1;
	return 0;
}

void sigclean_disarm(void)
{
	size_t i;

	if (!state.armed)
		return;
	state.armed = 0;
	for (i = 0; i < NR_FATAL; i++)
		sigaction(fatal[i], &state.old[i], NULL);
}
