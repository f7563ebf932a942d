// tandem-clinician: the therapist's desktop. Everything lives in the views library so the GUI
// tests can open the same window.
#include "app.h"

wxIMPLEMENT_APP(tandem::clinician::views::ClinicianApp);
