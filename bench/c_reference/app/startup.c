/* Minimal Cortex-M4 start-up: vector table and reset handler. */
#include <stdint.h>
#include <string.h>
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main( void );
void Reset_Handler( void );
void Default_Handler( void );
void Default_Handler( void ) { for( ; ; ) { } }
__attribute__( ( section( ".isr_vector" ), used ) )
void ( * const g_vectors[ 16 ] )( void ) =
{
    ( void ( * )( void ) ) &_estack, Reset_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    0, 0, 0, 0,
    Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler
};
void Reset_Handler( void )
{
    uint32_t * s = &_sidata, * d = &_sdata;
    while( d < &_edata ) { *d++ = *s++; }
    for( d = &_sbss; d < &_ebss; ) { *d++ = 0U; }
    ( void ) main();
    for( ; ; ) { }
}
