#include <stdio.h>
int main(void) { puts("tagpilot"); return 0; }
